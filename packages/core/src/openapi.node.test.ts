/**
 * The contract: every problem body the core renders validates against PROBLEM_SCHEMA (ajv, 2020-12),
 * the OpenAPI documents built from problemResponses() validate (swagger-parser, 3.0 and 3.1), and each
 * example they show is what a real failure of that kind answers.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import ajv2020 from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import fc from 'fast-check';
import createError from 'http-errors';
import type { OpenAPI } from 'openapi-types';
import CircuitBreaker from 'opossum';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineConventions } from './conventions.js';
import type { ConventionsOptions } from './conventions.js';
import { BadGatewayError, GatewayTimeoutError, ServiceUnavailableError } from './errors.js';
import { PROBLEM_SCHEMA, problemResponses, problemSchema } from './openapi.js';
import type { OpenApiResponse, OpenApiVersion, ProblemResponseStatus } from './openapi.js';
import { renderProblem } from './render.js';
import type { ProblemBody } from './render.js';

// CommonJS modules whose `default` is the module itself: `.default` is right in every module system.
const Ajv2020 = ajv2020.default;
const ajv = ajvFormats.default(new Ajv2020({ strict: true, allErrors: true }));
const isProblem = ajv.compile(PROBLEM_SCHEMA);
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const quiet = { onError: () => undefined } satisfies ConventionsOptions;
const MODES = [defineConventions({ ...quiet, mode: 'production' }), defineConventions({ ...quiet, mode: 'development' })];
const ALL_STATUSES: readonly ProblemResponseStatus[] = [400, 404, 422, 429, 500, 502, 503, 504];

function expectValid(body: unknown): void {
  const valid = isProblem(body);
  expect(isProblem.errors ?? [], JSON.stringify(body)).toEqual([]);
  expect(valid).toBe(true);
}

function bodyOf(error: unknown, conventions = MODES[0], headers: Record<string, string> = {}): ProblemBody {
  const problem = renderProblem(error, { method: 'GET', url: '/orders/7?debug=1', headers }, conventions);
  return JSON.parse(problem.body ?? 'null') as ProblemBody;
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

let faults: Faults;
/** Real failures, produced by real clients against real sockets, each with the code it must get. */
let produced: { readonly name: string; readonly error: unknown }[];

beforeAll(async () => {
  faults = await startFaults();
  const breaker = new CircuitBreaker(() => Promise.reject(new Error('down')), { errorThresholdPercentage: 1, volumeThreshold: 0 });
  breaker.on('failure', () => undefined);
  await caught(breaker.fire());
  produced = [
    { name: 'refused', error: await caught(fetch(faults.refused)) },
    { name: 'reset', error: await caught(fetch(faults.reset)) },
    { name: 'garbage', error: await caught(fetch(faults.garbage)) },
    { name: 'self-signed TLS', error: await caught(fetch(faults.tls)) },
    { name: 'timeout', error: await caught(fetch(faults.hang, { signal: AbortSignal.timeout(50) })) },
    { name: 'open breaker', error: await caught(breaker.fire()) },
    { name: 'BadGatewayError', error: new BadGatewayError({ detail: 'the ledger answered nonsense', upstream: 'ledger' }) },
    { name: 'ServiceUnavailableError', error: new ServiceUnavailableError({ retryAfter: 120 }) },
    { name: 'GatewayTimeoutError', error: new GatewayTimeoutError({ upstream: 'search' }) },
    { name: 'kept 404', error: createError(404, 'No such order') },
    { name: 'kept 422 with errors', error: Object.assign(createError(422, 'Invalid order'), { errors: [{ pointer: '#/qty', detail: 'must be > 0' }] }) },
    { name: 'kept 429', error: createError(429, 'Slow down', { headers: { 'retry-after': '5' } }) },
    { name: 'a bug', error: new TypeError("Cannot read properties of undefined (reading 'id')") },
    { name: 'thrown null', error: null },
    { name: 'thrown string', error: 'postgres://admin:hunter2@db:5432/orders is down' },
  ];
  breaker.shutdown();
}, 20_000);

afterAll(() => faults.close());

describe('PROBLEM_SCHEMA', () => {
  it('is a valid 2020-12 schema that keeps every member (additionalProperties)', () => {
    expect(ajv.validateSchema(PROBLEM_SCHEMA)).toBe(true);
    expect(PROBLEM_SCHEMA['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(PROBLEM_SCHEMA['additionalProperties']).toBe(true);
    expect(Object.isFrozen(PROBLEM_SCHEMA)).toBe(true);
    expect(Object.keys(PROBLEM_SCHEMA['properties'] as object)).toEqual([
      'type',
      'title',
      'status',
      'detail',
      'instance',
      'code',
      'proxyStatus',
      'requestId',
      'traceId',
      'retryable',
      'retryAfter',
      'upstream',
      'errors',
      'debug',
    ]);
  });

  it.each(['production', 'development'] as const)('validates the body of every real failure in %s', (mode) => {
    const conventions = MODES[mode === 'production' ? 0 : 1];
    for (const { name, error } of produced) {
      const body = bodyOf(error, conventions, { traceparent: TRACEPARENT });
      expect(typeof body.code, name).toBe('string');
      expectValid(body);
      expect(body.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(body.debug === undefined).toBe(mode === 'production');
    }
  });

  it('validates what mappers, exposeUpstream and other conventions produce', () => {
    const conventions = defineConventions({
      ...quiet,
      typeBase: 'https://errors.example.com/problems/',
      exposeUpstream: true,
      proxyStatus: false,
      instance: false,
      mappers: [(error) => (error instanceof RangeError ? { status: 503, code: 'LEDGER_MAINTENANCE', retryAfter: 60 } : undefined)],
    });
    for (const error of [new RangeError('x'), new BadGatewayError({ upstream: 'ledger' })]) expectValid(bodyOf(error, conventions));
    expect(bodyOf(new RangeError('x'), conventions).code).toBe('LEDGER_MAINTENANCE');
  });

  it('validates the body of any thrown value, in both modes', () => {
    fc.assert(
      fc.property(fc.anything({ withObjectString: true, withNullPrototype: true }), fc.boolean(), (thrown, development) => {
        expectValid(bodyOf(thrown, MODES[development ? 1 : 0]));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what is not a problem', () => {
    for (const body of [{}, { type: 'about:blank', title: 'x', status: 200, code: 'X', requestId: 'r', retryable: false }, { ...bodyOf(null), retryable: 'yes' }]) {
      expect(isProblem(body)).toBe(false);
    }
  });
});

/** An OpenAPI document with one operation answering the given responses. */
function documentOf(openapi: OpenApiVersion, responses: Record<string, OpenApiResponse>, components?: object): OpenAPI.Document {
  return {
    openapi: openapi === '3.1' ? '3.1.0' : '3.0.3',
    info: { title: 'Orders', version: '1.0.0' },
    paths: {
      '/orders/{id}': {
        get: {
          operationId: 'getOrder',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'The order.' }, ...responses },
        },
      },
    },
    ...(components === undefined ? {} : { components }),
  } as OpenAPI.Document;
}

describe('problemResponses', () => {
  it.each(['3.0', '3.1'] as const)('builds a valid OpenAPI %s document, inline and by $ref', async (openapi) => {
    const conventions = defineConventions({ ...quiet, typeBase: 'https://errors.example.com/', requestIdHeader: 'x-correlation-id' });
    await SwaggerParser.validate(structuredClone(documentOf(openapi, problemResponses(conventions, { openapi, statuses: ALL_STATUSES }))));
    const byRef = problemResponses(conventions, { openapi, statuses: ALL_STATUSES, schemaRef: '#/components/schemas/Problem' });
    await SwaggerParser.validate(structuredClone(documentOf(openapi, byRef, { schemas: { Problem: problemSchema(openapi) } })));
    expect(byRef['502']?.content['application/problem+json']?.schema).toEqual({ $ref: '#/components/schemas/Problem' });
  });

  it('gives 3.0 a schema it allows: no $schema, no examples array, no type lists', () => {
    const text = JSON.stringify(problemSchema('3.0'));
    expect(text).not.toContain('"examples"');
    expect(text).not.toContain('$schema');
    expect(text).not.toContain('"type":[');
    expect(problemSchema('3.1')).not.toHaveProperty('$schema');
    // A fresh copy each time: document builders may annotate it.
    expect(problemSchema()).not.toBe(problemSchema());
    expect(Object.isFrozen(problemSchema())).toBe(false);
  });

  it('documents the headers of each status as the core sends them', () => {
    const responses = problemResponses(defineConventions({ ...quiet, requestIdHeader: 'x-correlation-id' }), { statuses: ALL_STATUSES });
    expect(Object.keys(responses)).toEqual(['400', '404', '422', '429', '500', '502', '503', '504']);
    expect(responses['503']?.headers['Retry-After']?.required).toBe(true);
    expect(responses['429']?.headers['Retry-After']?.required).toBe(true);
    expect(responses['502']?.headers['Retry-After']?.required).toBe(false);
    expect(responses['404']?.headers).not.toHaveProperty('Retry-After');
    expect(responses['504']?.headers['Proxy-Status']?.required).toBe(true);
    expect(responses['400']?.headers).not.toHaveProperty('Proxy-Status');
    expect(responses['502']?.headers['x-correlation-id']?.required).toBe(true);
    expect(problemResponses(defineConventions({ ...quiet, proxyStatus: false }))['502']?.headers).not.toHaveProperty('Proxy-Status');
  });

  it('shows examples that validate and are what real failures answer', async () => {
    const conventions = defineConventions({ ...quiet, typeBase: 'https://errors.example.com/', defaultRetryAfter: 17 });
    const responses = problemResponses(conventions, { statuses: ALL_STATUSES });
    const examples = new Map<string, Record<string, unknown>>();
    for (const [status, response] of Object.entries(responses)) {
      for (const [key, example] of Object.entries(response.content['application/problem+json']?.examples ?? {})) {
        expectValid(example.value);
        expect((example.value as ProblemBody).status).toBe(Number(status));
        examples.set(key, example.value as Record<string, unknown>);
      }
    }
    const breaker = new CircuitBreaker(() => Promise.reject(new Error('down')), { errorThresholdPercentage: 1, volumeThreshold: 0 });
    breaker.on('failure', () => undefined);
    await caught(breaker.fire());
    const openBreaker = await caught(breaker.fire());
    breaker.shutdown();
    const real: Record<string, unknown> = {
      UPSTREAM_UNREACHABLE: produced.find((entry) => entry.name === 'refused')?.error,
      UPSTREAM_CONNECTION_LOST: produced.find((entry) => entry.name === 'reset')?.error,
      UPSTREAM_TLS_FAILURE: produced.find((entry) => entry.name === 'self-signed TLS')?.error,
      UPSTREAM_BAD_RESPONSE: produced.find((entry) => entry.name === 'garbage')?.error,
      UPSTREAM_ERROR_STATUS: await caught(
        fetch(`${faults.status}/status/500`).then((response) => Promise.reject(Object.assign(new Error('HTTP 500'), { status: response.status, response }))),
      ),
      UPSTREAM_UNAVAILABLE: openBreaker,
      UPSTREAM_TIMEOUT: await caught(fetch(`${faults.status}/delay/2000`, { signal: AbortSignal.timeout(50) })),
      INTERNAL_ERROR: new TypeError('x'),
      NOT_FOUND: Object.assign(createError(404), { message: 'No route matches this request.' }),
    };
    for (const [code, error] of Object.entries(real)) {
      const expected = examples.get(code);
      expect(expected, code).toBeDefined();
      const { requestId: _id, instance: _instance, ...rendered } = bodyOf(error, conventions) as unknown as Record<string, unknown>;
      const { requestId: _exampleId, instance: _exampleInstance, ...shown } = expected ?? {};
      expect(rendered, code).toEqual(shown);
    }
  }, 20_000);

  it('refuses options it cannot honour, with a clear error', () => {
    expect(() => problemResponses(undefined, { statuses: [418 as ProblemResponseStatus] })).toThrow(/no response for status 418/);
    expect(() => problemResponses(undefined, { openapi: '2.0' as OpenApiVersion })).toThrow(/openapi must be '3.0' or '3.1'/);
    expect(() => problemResponses(undefined, { schemaRef: '' })).toThrow(/schemaRef/);
    expect(() => problemResponses(undefined, { statuses: '502' as unknown as ProblemResponseStatus[] })).toThrow(/statuses/);
    expect(() => problemResponses({ typeBase: 'not a uri' })).toThrow(/typeBase/);
  });
});

describe('the OpenAPI schemas', () => {
  it.each(['3.0', '3.1'] as const)('%s validates the same real bodies', (openapi) => {
    const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(problemSchema(openapi));
    for (const { error } of produced) expect(validate(bodyOf(error, MODES[1]))).toBe(true);
  });
});
