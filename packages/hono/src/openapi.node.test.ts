/**
 * problemResponses() and problemSchema() in the documents of Hono's two OpenAPI toolkits, @hono/zod-openapi
 * (3.0 and 3.1) and hono-openapi (3.1), inline and as a shared component: each document validates
 * (swagger-parser), and each route that fails for real (a refused connection, a deadline, an open
 * circuit) answers what its document says, headers, schema and example.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { defineConventions, ServiceUnavailableError } from '@gateway-errors/core';
import { hangServer, refusedPort } from '@gateway-errors/fault-servers';
import type { FaultServer } from '@gateway-errors/fault-servers';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import ajv2020 from 'ajv/dist/2020.js';
import { Hono } from 'hono';
import { describeRoute, openAPIRouteHandler } from 'hono-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayErrors, PROBLEM_SCHEMA, problemResponses, problemSchema, requestId } from './index.js';
import type { OpenApiVersion, ProblemResponsesOptions } from './index.js';

type OpenApiDocument = Exclude<Parameters<typeof SwaggerParser.validate>[1], string>;

// A CommonJS module whose `default` is the class: `.default` is right in every module system.
const Ajv2020 = ajv2020.default;
// No format validators are installed here: `uri-reference` is known, and not checked.
const ajv = new Ajv2020({ strict: false, allErrors: true, formats: { 'uri-reference': true } });
const isProblem = ajv.compile(PROBLEM_SCHEMA);

const conventions = defineConventions({
  mode: 'production',
  requestIdHeader: 'x-correlation-id',
  defaultRetryAfter: 17,
  onError: () => undefined,
});
const MEDIA_TYPE = 'application/problem+json';
const PROBLEM_REF = '#/components/schemas/Problem';
const INFO = { title: 'Gateway', version: '1.0.0' };

let refused: string;
let hang: FaultServer;

beforeAll(async () => {
  refused = `http://127.0.0.1:${await refusedPort()}`;
  hang = await hangServer();
});
afterAll(() => hang.close());

interface Failure {
  readonly what: string;
  readonly path: string;
  readonly status: 502 | 503 | 504;
  readonly code: string;
  /** What the route's handler calls: it fails for real. */
  call(): Promise<unknown>;
}

const FAILURES: readonly Failure[] = [
  { what: 'a refused connection', path: '/orders', status: 502, code: 'UPSTREAM_UNREACHABLE', call: () => fetch(`${refused}/orders`) },
  {
    what: 'no answer before AbortSignal.timeout()',
    path: '/pricing',
    status: 504,
    code: 'UPSTREAM_TIMEOUT',
    call: () => fetch(`${hang.url}/prices`, { signal: AbortSignal.timeout(100) }),
  },
  {
    what: 'an open circuit (ServiceUnavailableError)',
    path: '/inventory',
    status: 503,
    code: 'UPSTREAM_UNAVAILABLE',
    call: () => Promise.reject(new ServiceUnavailableError({ upstream: 'inventory' })),
  },
];
const STATUSES = ['502', '503', '504'] as const;

/** A documented app: its routes are FAILURES, each also documenting a 200. */
interface Documented {
  request(path: string): Response | Promise<Response>;
  readonly document: OpenApiDocument;
}

interface Target {
  readonly name: string;
  readonly openapi: OpenApiVersion;
  /** The problem schema is registered once as `#/components/schemas/Problem`. */
  readonly shared: boolean;
  build(): Promise<Documented>;
}

function responseOptions(openapi: OpenApiVersion, shared: boolean): ProblemResponsesOptions {
  return shared ? { openapi, schemaRef: PROBLEM_REF } : { openapi };
}

function zodOpenApi(openapi: OpenApiVersion, shared: boolean): Target {
  return {
    name: `@hono/zod-openapi, OpenAPI ${openapi}, ${shared ? 'shared component' : 'inline schema'}`,
    openapi,
    shared,
    build() {
      const app = new OpenAPIHono();
      app.use(requestId(conventions));
      app.onError(gatewayErrors(conventions));
      if (shared) app.openAPIRegistry.registerComponent('schemas', 'Problem', problemSchema(openapi));
      for (const failure of FAILURES) {
        const route = createRoute({
          method: 'get',
          path: failure.path,
          responses: {
            200: { description: 'The upstream answered', content: { 'application/json': { schema: z.object({ ok: z.boolean() }) } } },
            ...problemResponses(conventions, responseOptions(openapi, shared)),
          },
        });
        app.openapi(route, async (c) => {
          await failure.call();
          return c.json({ ok: true }, 200);
        });
      }
      const document =
        openapi === '3.1'
          ? app.getOpenAPI31Document({ openapi: '3.1.0', info: INFO })
          : app.getOpenAPIDocument({ openapi: '3.0.3', info: INFO });
      return Promise.resolve({ request: (path) => app.request(path), document: document as OpenApiDocument });
    },
  };
}

function honoOpenApi(shared: boolean): Target {
  return {
    name: `hono-openapi, OpenAPI 3.1, ${shared ? 'shared component' : 'inline schema'}`,
    openapi: '3.1',
    shared,
    async build() {
      const app = new Hono();
      app.use(requestId(conventions));
      app.onError(gatewayErrors(conventions));
      for (const failure of FAILURES) {
        const described = describeRoute({
          responses: {
            200: {
              description: 'The upstream answered',
              content: { 'application/json': { schema: { type: 'object', properties: { ok: { type: 'boolean' } } } } },
            },
            ...problemResponses(conventions, responseOptions('3.1', shared)),
          },
        });
        app.get(failure.path, described, async (c) => {
          await failure.call();
          return c.json({ ok: true });
        });
      }
      const components = shared ? { schemas: { Problem: problemSchema() } } : {};
      app.get('/openapi.json', openAPIRouteHandler(app, { documentation: { info: INFO, components } }));
      const served = await app.request('/openapi.json');
      expect(served.status).toBe(200);
      return { request: (path) => app.request(path), document: (await served.json()) as OpenApiDocument };
    },
  };
}

const TARGETS: readonly Target[] = [
  zodOpenApi('3.1', false),
  zodOpenApi('3.0', false),
  zodOpenApi('3.1', true),
  zodOpenApi('3.0', true),
  honoOpenApi(false),
  honoOpenApi(true),
];

/** The member at `path` of a JSON value, or undefined. */
function at(value: unknown, ...path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Readonly<Record<string, unknown>>)[key];
  }
  return current;
}

function record(value: unknown): Readonly<Record<string, unknown>> {
  expect(value).toBeTypeOf('object');
  return value as Readonly<Record<string, unknown>>;
}

function expectValid(validate: ReturnType<typeof ajv.compile>, body: unknown, label: string): void {
  const valid = validate(body);
  expect(validate.errors ?? [], `${label}: ${JSON.stringify(body)}`).toEqual([]);
  expect(valid).toBe(true);
}

for (const target of TARGETS) {
  describe(target.name, () => {
    let app: Documented;
    /** The document with every `$ref` resolved. */
    let resolved: OpenApiDocument;

    beforeAll(async () => {
      app = await target.build();
      resolved = await SwaggerParser.dereference(structuredClone(app.document));
    });

    it('builds a document that validates, with 502, 503 and 504 on every failing route', async () => {
      await SwaggerParser.validate(structuredClone(app.document));
      const { document } = app;
      expect(String(at(document, 'openapi')).startsWith(`${target.openapi}.`)).toBe(true);
      const expectedSchema = target.shared ? { $ref: PROBLEM_REF } : problemSchema(target.openapi);
      if (target.shared) expect(at(document, 'components', 'schemas', 'Problem')).toEqual(problemSchema(target.openapi));
      for (const { path } of FAILURES) {
        const responses = record(at(document, 'paths', path, 'get', 'responses'));
        expect(Object.keys(responses).sort()).toEqual(['200', ...STATUSES]);
        for (const status of STATUSES) {
          const response = responses[status];
          expect(at(response, 'description'), `${path} ${status}`).toBeTypeOf('string');
          const headers = record(at(response, 'headers'));
          expect(Object.keys(headers).sort()).toEqual(
            ['Cache-Control', 'Proxy-Status', 'Retry-After', conventions.requestIdHeader].sort(),
          );
          expect(at(headers, conventions.requestIdHeader, 'required')).toBe(true);
          expect(at(headers, 'Retry-After', 'required')).toBe(status === '503');
          const content = record(at(response, 'content'));
          expect(Object.keys(content)).toEqual([MEDIA_TYPE]);
          expect(at(content, MEDIA_TYPE, 'schema')).toEqual(expectedSchema);
          const examples = Object.values(record(at(content, MEDIA_TYPE, 'examples')));
          expect(examples.length).toBeGreaterThan(0);
          for (const example of examples) {
            expect(at(example, 'value', 'status')).toBe(Number(status));
            expectValid(isProblem, at(example, 'value'), `example of ${path} ${status}`);
          }
        }
      }
    });

    it.each(FAILURES)('answers $status to $what as documented: headers, schema and example', async (failure) => {
      const response = await app.request(failure.path);
      expect(response.status).toBe(failure.status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = record(await response.json());
      expect(body['code']).toBe(failure.code);

      expectValid(isProblem, body, 'PROBLEM_SCHEMA');
      const documented = at(resolved, 'paths', failure.path, 'get', 'responses', String(failure.status));
      expectValid(ajv.compile(record(at(documented, 'content', MEDIA_TYPE, 'schema'))), body, `the ${target.openapi} document's schema`);

      // Every header the document requires is sent, with a value its schema allows.
      for (const [name, header] of Object.entries(record(at(documented, 'headers')))) {
        const value = response.headers.get(name);
        if (at(header, 'required') !== true && value === null) continue;
        expect(value, name).not.toBeNull();
        const schema = record(at(header, 'schema'));
        expectValid(ajv.compile(schema), schema['type'] === 'integer' ? Number(value) : value, `header ${name}`);
      }
      expect(response.headers.get(conventions.requestIdHeader)).toBe(body['requestId']);
      if (failure.status === 503) expect(response.headers.get('retry-after')).toBe(String(conventions.defaultRetryAfter));

      // One of the documented examples is this answer, but for the members that vary per request.
      const stable = (problem: unknown): Readonly<Record<string, unknown>> => {
        const { requestId: _id, instance: _instance, ...rest } = record(problem);
        return rest;
      };
      const examples = Object.values(record(at(documented, 'content', MEDIA_TYPE, 'examples'))).map((example) => stable(at(example, 'value')));
      expect(examples).toContainEqual(stable(body));
    });
  });
}

it('@hono/zod-openapi: objects made for OpenAPI 3.0 fit its 3.1 document too, so one app serves doc and doc31', async () => {
  const app = new OpenAPIHono();
  app.openAPIRegistry.registerComponent('schemas', 'Problem', problemSchema('3.0'));
  const responses = { 200: { description: 'The upstream answered' }, ...problemResponses(conventions, responseOptions('3.0', true)) };
  app.openapi(createRoute({ method: 'get', path: '/orders', responses }), (c) => c.text('ok', 200));
  const documents = [app.getOpenAPIDocument({ openapi: '3.0.3', info: INFO }), app.getOpenAPI31Document({ openapi: '3.1.0', info: INFO })];
  for (const document of documents) {
    const validated = await SwaggerParser.validate(structuredClone(document) as OpenApiDocument);
    expect(Object.keys(record(at(validated, 'paths', '/orders', 'get', 'responses')))).toEqual(['200', ...STATUSES]);
  }
});
