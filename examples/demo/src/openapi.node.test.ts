/**
 * GET /openapi.json of every example gateway, on 127.0.0.1: a valid OpenAPI document (swagger-parser)
 * whose routes list the 502, 503 and 504 problems; and what the gateway really answers when a service
 * fails validates against PROBLEM_SCHEMA and against the schema its own document gives that status.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { conventionsWithMetrics } from '@gateway-errors-examples/conventions';
import { PROBLEM_SCHEMA } from '@gateway-errors/core';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import ajv2020 from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import type { OpenAPI } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAYS } from './gateways.js';
import type { Running } from './gateways.js';

const PROBLEM_JSON = 'application/problem+json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// CommonJS modules whose `default` is the module itself: `.default` is right in every module system.
const ajv = ajvFormats.default(new ajv2020.default({ strict: false, allErrors: true }));
const isProblem = ajv.compile(PROBLEM_SCHEMA);

interface MediaType {
  readonly schema?: object;
  readonly examples?: Record<string, { readonly value?: unknown }>;
}
interface Response {
  readonly headers?: Record<string, unknown>;
  readonly content?: Record<string, MediaType>;
}

/** Every response the document gives `status`, on any path and method, once dereferenced. */
function responsesFor(document: OpenAPI.Document, status: string): { readonly where: string; readonly response: Response }[] {
  const found: { where: string; response: Response }[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = (item as Record<string, { responses?: Record<string, Response> } | undefined>)[method];
      const response = operation?.responses?.[status];
      if (response !== undefined) found.push({ where: `${method.toUpperCase()} ${path}`, response });
    }
  }
  return found;
}

let faults: Faults;

beforeAll(async () => {
  faults = await startFaults();
});

afterAll(async () => {
  await faults.close();
});

describe.each(GATEWAYS)('$name: GET /openapi.json', ({ start }) => {
  let gateway: Running;
  let document: OpenAPI.Document;

  beforeAll(async () => {
    const metrics = conventionsWithMetrics({ mode: 'production', onError: false, upstreamTimeoutMs: 300 });
    gateway = await start({ ...metrics, upstreams: { orders: faults.status, inventory: faults.refused, payments: faults.hang } });
    const response = await fetch(`${gateway.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const served = (await response.json()) as OpenAPI.Document;
    // A valid document, then the same dereferenced ($refs to components resolved) for the checks below.
    await SwaggerParser.validate(structuredClone(served));
    document = await SwaggerParser.dereference(structuredClone(served));
  });

  afterAll(async () => {
    await gateway.close();
  });

  it.each(['502', '503', '504'])('documents %s on every proxied route: problem+json, the headers, examples that validate', (status) => {
    const responses = responsesFor(document, status);
    expect(responses.length).toBeGreaterThan(0);
    for (const { where, response } of responses) {
      const media = response.content?.[PROBLEM_JSON];
      expect(media?.schema, where).toBeDefined();
      const headers = Object.keys(response.headers ?? {}).map((name) => name.toLowerCase());
      expect(headers, where).toEqual(expect.arrayContaining(['x-request-id', 'cache-control', 'proxy-status']));
      if (status === '503') expect(headers, where).toContain('retry-after');
      for (const example of Object.values(media?.examples ?? {})) expect(isProblem(example.value), where).toBe(true);
    }
  });

  it.each([
    ['/inventory/sku-1', 502, 'UPSTREAM_UNREACHABLE'],
    ['/orders/status/503', 503, 'UPSTREAM_UNAVAILABLE'],
    ['/payments/charge-1', 504, 'UPSTREAM_TIMEOUT'],
  ] as const)('answers %s with a %i that validates against PROBLEM_SCHEMA and the documented schema', async (path, status, code) => {
    const response = await fetch(gateway.url + path);
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(body).toMatchObject({ status, code });
    expect(isProblem(body), JSON.stringify(isProblem.errors)).toBe(true);
    for (const { where, response: documented } of responsesFor(document, String(status))) {
      const validate = ajv.compile(documented.content?.[PROBLEM_JSON]?.schema ?? {});
      expect(validate(body), `${where}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });
});
