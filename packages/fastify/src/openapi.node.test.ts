/**
 * OpenAPI with @fastify/swagger, in 3.1 and 3.0: routes documented with problemResponseSchemas() register,
 * are documented by responses that validate (swagger-parser) and carry the headers, media type and
 * examples, and answer real upstream failures with every member, valid against PROBLEM_SCHEMA. A route
 * documented with a plain RFC 9457 schema strips nothing from the answers either, thrown or proxied.
 */
import type { AddressInfo } from 'node:net';
import SwaggerParser from '@apidevtools/swagger-parser';
import proxy from '@fastify/http-proxy';
import replyFrom from '@fastify/reply-from';
import swagger from '@fastify/swagger';
import * as core from '@gateway-errors/core';
import { defineConventions, ServiceUnavailableError } from '@gateway-errors/core';
import type { Conventions, Mode, OpenApiVersion, ProblemResponseStatus } from '@gateway-errors/core';
import { hangServer, refusedPort, statusServer } from '@gateway-errors/fault-servers';
import type { FaultServer } from '@gateway-errors/fault-servers';
import ajv2020 from 'ajv/dist/2020.js';
import Fastify from 'fastify';
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import gatewayErrors, { genReqId, PROBLEM_SCHEMA, problemResponses, problemResponseSchemas, problemSchema, proxyReplyOptions } from './index.js';
import type { ProblemResponseSchema } from './index.js';

// A CommonJS module whose `default` is the module itself: `.default` is right in every module system.
const Ajv2020 = ajv2020.default;
// Formats (uri-reference) are checked by the core's own tests, with ajv-formats.
const ajv = (): InstanceType<typeof Ajv2020> => new Ajv2020({ strict: false, validateFormats: false });
const isProblem = ajv().compile(PROBLEM_SCHEMA);

const PROBLEM = 'application/problem+json; charset=utf-8';
const REQUEST_ID = 'req-openapi-7';
const STATUSES = [502, 503, 504] as const;
/** What @fastify/swagger is told, per version of the schemas. */
const DOCUMENT_VERSION: Readonly<Record<OpenApiVersion, string>> = { '3.1': '3.1.0', '3.0': '3.0.3' };
const VERSIONS = ['3.1', '3.0'] as const satisfies readonly OpenApiVersion[];
const MODES = ['production', 'development'] as const satisfies readonly Mode[];

/** RFC 9457's members and nothing else, as a service might document its errors. */
const PLAIN_PROBLEM = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
  },
};
const PLAIN_RESPONSES = { 502: PLAIN_PROBLEM, 503: PLAIN_PROBLEM, 504: PLAIN_PROBLEM, '5xx': PLAIN_PROBLEM };
const ORDER = { type: 'object', properties: { id: { type: 'string' } } };

type Body = Record<string, unknown>;

/** The part of an OpenAPI document the assertions read. */
interface Document {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, { readonly responses: Record<string, DocumentedResponse> }>>;
}
interface DocumentedResponse {
  readonly description: string;
  readonly headers?: Record<string, { readonly description?: string; readonly schema: Body }>;
  readonly content?: Record<string, { readonly schema: Body; readonly examples?: Record<string, { readonly summary: string; readonly value: Body }> }>;
}

let refused: string;
let hang: FaultServer;
let upstream: FaultServer;
beforeAll(async () => {
  refused = `http://127.0.0.1:${await refusedPort()}`;
  [hang, upstream] = await Promise.all([hangServer(), statusServer()]);
});
afterAll(async () => {
  await Promise.all([hang.close(), upstream.close()]);
});

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** A real failure a route's handler meets, and what its answer must say. */
interface Failure {
  readonly key: string;
  readonly status: 502 | 503 | 504;
  readonly code: string;
  readonly proxyStatus: string;
  readonly retryAfter?: number;
  fail(): Promise<unknown>;
}

const FAILURES: readonly Failure[] = [
  { key: 'refused', status: 502, code: 'UPSTREAM_UNREACHABLE', proxyStatus: 'connection_refused', fail: () => fetch(refused) },
  {
    key: 'deadline',
    status: 504,
    code: 'UPSTREAM_TIMEOUT',
    proxyStatus: 'http_response_timeout',
    fail: () => fetch(hang.url, { signal: AbortSignal.timeout(50) }),
  },
  {
    key: 'unavailable',
    status: 503,
    code: 'UPSTREAM_UNAVAILABLE',
    proxyStatus: 'destination_unavailable',
    retryAfter: 30,
    fail: () => Promise.reject(new ServiceUnavailableError({ upstream: 'orders', retryAfter: 30 })),
  },
];

interface Gateway {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly conventions: Conventions;
}

interface GatewayOptions {
  readonly openapi?: OpenApiVersion;
  readonly mode?: Mode;
  readonly routes?: (app: FastifyInstance, conventions: Conventions) => Promise<void> | void;
}

/**
 * A gateway on 127.0.0.1 with @fastify/swagger and the plugin; each failure behind three routes:
 * `/documented/<key>` (problemResponseSchemas), `/plain/<key>` (RFC 9457's members only) and
 * `/undocumented/<key>`.
 */
async function gateway({ openapi = '3.1', mode = 'production', routes }: GatewayOptions = {}): Promise<Gateway> {
  const conventions = defineConventions({ mode, onError: false });
  const app = Fastify({ genReqId: genReqId(conventions) });
  apps.push(app);
  await app.register(swagger, { openapi: { openapi: DOCUMENT_VERSION[openapi], info: { title: 'orders', version: '1.0.0' } } });
  await app.register(gatewayErrors, conventions);
  for (const failure of FAILURES) {
    const handler: RouteHandlerMethod = async () => {
      await failure.fail();
      return { id: 'unreachable' };
    };
    app.get(`/documented/${failure.key}`, { schema: { response: { 200: ORDER, ...problemResponseSchemas(conventions, { openapi }) } } }, handler);
    app.get(`/plain/${failure.key}`, { schema: { response: { 200: ORDER, ...PLAIN_RESPONSES } } }, handler);
    app.get(`/undocumented/${failure.key}`, handler);
  }
  await routes?.(app, conventions);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, conventions };
}

async function answer(url: string): Promise<{ response: Response; body: Body }> {
  const response = await fetch(url, { headers: { 'x-request-id': REQUEST_ID } });
  const text = await response.text();
  expect(response.headers.get('content-type'), text).toBe(PROBLEM);
  return { response, body: JSON.parse(text) as Body };
}

function expectValid(body: unknown): void {
  const valid = isProblem(body);
  expect(isProblem.errors ?? [], JSON.stringify(body)).toEqual([]);
  expect(valid).toBe(true);
}

/** The members of the answer to `failure` that do not depend on the route. */
function expectAnswerTo(failure: Failure, body: Body, mode: Mode): void {
  expect(body).toMatchObject({
    status: failure.status,
    code: failure.code,
    proxyStatus: failure.proxyStatus,
    requestId: REQUEST_ID,
    retryable: true,
    ...(failure.retryAfter === undefined ? {} : { retryAfter: failure.retryAfter }),
  });
  expect(typeof body['type']).toBe('string');
  expect(typeof body['title']).toBe('string');
  expect(typeof body['detail']).toBe('string');
  if (mode === 'development') expect(body['debug']).toMatchObject({ name: expect.any(String), message: expect.any(String) });
  else expect(body).not.toHaveProperty('debug');
  expectValid(body);
}

/** Every member but those that name the route (`instance`, and the stack of a development body). */
function routeFree(body: Body): Body {
  const { instance: _instance, debug, ...rest } = body;
  return debug === undefined ? rest : { ...rest, debug: Object.keys(debug as Body).sort() };
}

describe('problemResponseSchemas', () => {
  it('documents 502, 503 and 504 by default, or the statuses asked for', () => {
    expect(Object.keys(problemResponseSchemas())).toEqual(['502', '503', '504']);
    expect(Object.keys(problemResponseSchemas({}, { statuses: [400, 429, 500] }))).toEqual(['400', '429', '500']);
    expect(() => problemResponseSchemas({}, { statuses: [418 as ProblemResponseStatus] })).toThrow(TypeError);
    expect(() => problemResponseSchemas({}, { openapi: '2.0' as OpenApiVersion })).toThrow(TypeError);
  });

  it.each(VERSIONS)('is the core’s responses in the shape of a route’s schema.response (OpenAPI %s)', (openapi) => {
    const conventions = defineConventions({ requestIdHeader: 'x-correlation-id', defaultRetryAfter: 9 });
    const schemas = problemResponseSchemas(conventions, { openapi });
    const responses = problemResponses(conventions, { openapi });
    for (const status of STATUSES) {
      const schema = schemas[status];
      const response = responses[String(status)]!;
      expect(schema.description).toBe(response.description);
      expect(schema.content).toEqual(response.content);
      expect(schema.content['application/problem+json']?.schema).toEqual(problemSchema(openapi));
      // A header as @fastify/swagger reads it: a JSON Schema with its description, and no `required`.
      expect(schema.headers).toEqual(
        Object.fromEntries(Object.entries(response.headers).map(([name, header]) => [name, { ...header.schema, description: header.description }])),
      );
      expect(Object.keys(schema.headers)).toEqual(['x-correlation-id', 'Cache-Control', 'Retry-After', 'Proxy-Status']);
    }
    expect(schemas[503].content['application/problem+json']?.examples['UPSTREAM_UNAVAILABLE']?.value).toMatchObject({ retryAfter: 9 });
  });

  it.each(VERSIONS)('holds nothing fast-json-stringify or Fastify’s Ajv refuses (OpenAPI %s)', (openapi) => {
    const keywords = new Set<string>();
    const collect = (value: unknown): void => {
      if (typeof value !== 'object' || value === null) return;
      for (const [key, member] of Object.entries(value)) {
        keywords.add(key);
        collect(member);
      }
    };
    collect(problemResponseSchemas({}, { openapi }));
    for (const keyword of ['$schema', '$id', '$defs', '$anchor', '$dynamicRef', 'prefixItems', 'unevaluatedProperties', 'unevaluatedItems', 'dependentRequired', 'dependentSchemas']) {
      expect(keywords.has(keyword), keyword).toBe(false);
    }
  });

  it('makes new objects on every call: Fastify and @fastify/swagger may annotate them', () => {
    const first = problemResponseSchemas();
    (first[502].headers['Retry-After'] as Record<string, unknown>)['minimum'] = 99;
    (first[502].content['application/problem+json']!.schema as Record<string, unknown>)['additionalProperties'] = false;
    const second = problemResponseSchemas();
    expect(second[502].headers['Retry-After']).toMatchObject({ minimum: 0 });
    expect(second[502].content['application/problem+json']?.schema['additionalProperties']).toBe(true);
  });

  it('has a key per status asked for, in its type', () => {
    expectTypeOf(problemResponseSchemas()).toEqualTypeOf<Record<502 | 503 | 504, ProblemResponseSchema>>();
    expectTypeOf(problemResponseSchemas({}, { openapi: '3.0' })).toEqualTypeOf<Record<502 | 503 | 504, ProblemResponseSchema>>();
    expectTypeOf(problemResponseSchemas({}, { statuses: [429, 503] })).toEqualTypeOf<Record<429 | 503, ProblemResponseSchema>>();
    // @ts-expect-error a status the core does not document
    expect(() => problemResponseSchemas({}, { statuses: [418] })).toThrow(TypeError);
  });

  it('comes with the core’s schema and responses, re-exported', () => {
    expect(PROBLEM_SCHEMA).toBe(core.PROBLEM_SCHEMA);
    expect(problemSchema).toBe(core.problemSchema);
    expect(problemResponses).toBe(core.problemResponses);
  });
});

describe.each(VERSIONS)('@fastify/swagger, OpenAPI %s', (openapi) => {
  it('builds a document that validates, whose 502, 503 and 504 carry the headers, media type and examples', async () => {
    const { app, conventions } = await gateway({ openapi });
    const document = app.swagger() as unknown as Document;
    expect(document.openapi).toBe(DOCUMENT_VERSION[openapi]);
    await SwaggerParser.validate(structuredClone(app.swagger()));

    const core = problemResponses(conventions, { openapi });
    const { responses } = document.paths['/documented/refused']!['get']!;
    expect(Object.keys(responses)).toEqual(['200', '502', '503', '504']);
    for (const status of STATUSES) {
      const documented = responses[String(status)]!;
      const expected = core[String(status)]!;
      expect(documented.description).toBe(expected.description);
      expect(documented.headers).toEqual(
        Object.fromEntries(Object.entries(expected.headers).map(([name, { description, schema }]) => [name, { description, schema }])),
      );
      expect(Object.keys(documented.headers ?? {})).toEqual(['x-request-id', 'Cache-Control', 'Retry-After', 'Proxy-Status']);
      expect(Object.keys(documented.content ?? {})).toEqual(['application/problem+json']);
      const media = documented.content?.['application/problem+json'];
      expect(media?.schema).toEqual(problemSchema(openapi));
      expect(media?.schema['additionalProperties']).toBe(true);
      expect(media?.examples).toEqual(expected.content['application/problem+json']?.examples);
      for (const example of Object.values(media?.examples ?? {})) expectValid(example.value);
    }
  });

  it.each(MODES)('a documented route answers real failures with every member (%s)', async (mode) => {
    const { url, app, conventions } = await gateway({ openapi, mode });
    const document = app.swagger() as unknown as Document;
    const responses = problemResponses(conventions, { openapi });
    for (const failure of FAILURES) {
      const path = `/documented/${failure.key}`;
      const { response, body } = await answer(`${url}${path}`);
      expect(response.status, failure.key).toBe(failure.status);
      expectAnswerTo(failure, body, mode);
      expect(body['instance']).toBe(path);

      // What the document promises: its headers (the optional Retry-After when there is one) and its schema.
      const documented = document.paths[path]!['get']!.responses[String(failure.status)]!;
      for (const name of Object.keys(documented.headers ?? {})) {
        const required = responses[String(failure.status)]!.headers[name]?.required === true;
        if (required || failure.retryAfter !== undefined) expect(response.headers.get(name), `${failure.key}: ${name}`).not.toBeNull();
      }
      expect(response.headers.get('x-request-id')).toBe(REQUEST_ID);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('proxy-status')).toContain(`error=${failure.proxyStatus}`);
      expect(response.headers.get('retry-after')).toBe(failure.retryAfter === undefined ? null : String(failure.retryAfter));
      const fromDocument = ajv().compile(documented.content!['application/problem+json']!.schema);
      expect(fromDocument(body), JSON.stringify(fromDocument.errors)).toBe(true);

      // The same members as a route documented with nothing.
      const { body: undocumented } = await answer(`${url}/undocumented/${failure.key}`);
      expect(routeFree(body)).toEqual(routeFree(undocumented));
    }
  });
});

describe('a route documented with RFC 9457’s members only', () => {
  it.each(MODES)('strips nothing from the answer to a failure thrown in its handler (%s)', async (mode) => {
    const { url } = await gateway({ mode });
    for (const failure of FAILURES) {
      const { response, body } = await answer(`${url}/plain/${failure.key}`);
      expect(response.status).toBe(failure.status);
      expectAnswerTo(failure, body, mode);
      const { body: undocumented } = await answer(`${url}/undocumented/${failure.key}`);
      expect(routeFree(body)).toEqual(routeFree(undocumented));
    }
  });

  /** Upstream answers and failures behind a proxy, and what the client must get. */
  const proxied = [
    { path: '/status/500', status: 502, code: 'UPSTREAM_ERROR_STATUS', proxyStatus: undefined, retryAfter: undefined },
    { path: '/status/503', status: 503, code: 'UPSTREAM_UNAVAILABLE', proxyStatus: undefined, retryAfter: '7' },
    { path: 'refused', status: 502, code: 'UPSTREAM_UNREACHABLE', proxyStatus: 'connection_refused', retryAfter: undefined },
    { path: 'hang', status: 504, code: 'UPSTREAM_TIMEOUT', proxyStatus: 'http_response_timeout', retryAfter: undefined },
  ] as const;

  /** `/<prefix>/*` proxied to `base`, documented with RFC 9457's members only. */
  const proxies = [
    {
      name: '@fastify/http-proxy',
      async mount(app: FastifyInstance, conventions: Conventions, prefix: string, base: string) {
        // @fastify/http-proxy registers its routes without a schema: document them from the outside, in their own scope.
        await app.register(async function documented(scope) {
          scope.addHook('onRoute', (route) => {
            route.schema = { ...route.schema, response: PLAIN_RESPONSES };
          });
          await scope.register(proxy, { upstream: base, prefix, replyOptions: proxyReplyOptions(conventions, { upstream: 'orders', timeoutMs: 200 }) });
        });
      },
    },
    {
      name: '@fastify/reply-from',
      async mount(app: FastifyInstance, conventions: Conventions, prefix: string, base: string) {
        await app.register(async function documented(scope) {
          await scope.register(replyFrom, { base });
          const options = proxyReplyOptions(conventions, { upstream: 'orders', timeoutMs: 200 });
          scope.get(`${prefix}/*`, { schema: { response: PLAIN_RESPONSES } }, (request, reply) => reply.from(request.url.slice(prefix.length), options));
        });
      },
    },
  ];

  it.each(proxies)('strips nothing from the answer to a proxied failure ($name)', async ({ mount }) => {
    const { url } = await gateway({
      routes: async (app, conventions) => {
        await mount(app, conventions, '/upstream', upstream.url);
        await mount(app, conventions, '/refused', refused);
        await mount(app, conventions, '/hang', hang.url);
      },
    });
    for (const expected of proxied) {
      const path = expected.path === 'refused' ? '/refused/orders/7' : expected.path === 'hang' ? '/hang/orders/7' : `/upstream${expected.path}`;
      const { response, body } = await answer(`${url}${path}`);
      expect(response.status, path).toBe(expected.status);
      expect(body).toMatchObject({ status: expected.status, code: expected.code, requestId: REQUEST_ID, retryable: true, instance: path });
      if (expected.proxyStatus !== undefined) expect(body['proxyStatus']).toBe(expected.proxyStatus);
      expect(response.headers.get('retry-after')).toBe(expected.retryAfter ?? null);
      if (expected.retryAfter !== undefined) expect(body['retryAfter']).toBe(Number(expected.retryAfter));
      expect(response.headers.get('x-request-id')).toBe(REQUEST_ID);
      expectValid(body);
    }
  });

  it('is on the proxied routes: the document shows it', async () => {
    const { app } = await gateway({ routes: (scope, conventions) => proxies[0]!.mount(scope, conventions, '/upstream', upstream.url) });
    const document = app.swagger() as unknown as Document;
    const schema = document.paths['/upstream/{*}']?.['get']?.responses['502']?.content?.['application/json']?.schema;
    expect(Object.keys(schema?.['properties'] as Body)).toEqual(['type', 'title', 'status', 'detail', 'instance']);
  });

  it('would strip a problem sent as an object, where problemResponseSchemas() keeps every member', async () => {
    let full: Body = {};
    const { url } = await gateway({
      mode: 'development',
      routes: (app, conventions) => {
        const send: RouteHandlerMethod = (_request, reply) => reply.code(502).type('application/problem+json').send(full);
        app.get('/object/plain', { schema: { response: PLAIN_RESPONSES } }, send);
        app.get('/object/documented', { schema: { response: problemResponseSchemas(conventions) } }, send);
      },
    });
    // A real development answer, with its debug member and its causes, plus a member no schema lists.
    ({ body: full } = await answer(`${url}/undocumented/refused`));
    expect(full['debug']).toHaveProperty('causes');
    full = { ...full, ledger: { shard: 3, tags: ['eu'] } };

    const { body: stripped } = await answer(`${url}/object/plain`);
    expect(stripped).toEqual({ type: full['type'], title: full['title'], status: 502, detail: full['detail'], instance: full['instance'] });
    const { body: kept } = await answer(`${url}/object/documented`);
    expect(kept).toEqual(full);
  });
});

it('a serializer the route set does not encode the answer again', async () => {
  const { url } = await gateway({
    routes: (app) => {
      app.get('/serialized', { schema: { response: PLAIN_RESPONSES } }, async (_request, reply) => {
        reply.serializer((payload: unknown) => `msgpack:${JSON.stringify(payload)}`);
        await fetch(refused);
      });
    },
  });
  const { response, body } = await answer(`${url}/serialized`);
  expect(response.status).toBe(502);
  expectAnswerTo(FAILURES[0]!, body, 'production');
});
