/**
 * `@ApiUpstreamResponses()` in real Nest 12 apps on both platforms: the documents `SwaggerModule` builds
 * validate (swagger-parser, OpenAPI 3.0 and 3.1) and hold the core's responses, and what the routes
 * really answer when their upstream fails is what the document says, body and headers.
 */
import 'reflect-metadata';
import SwaggerParser from '@apidevtools/swagger-parser';
import { defineConventions, problemResponses, ServiceUnavailableError } from '@gateway-errors/core';
import type { OpenApiResponse } from '@gateway-errors/core';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import { hangServer, refusedPort } from '@gateway-errors/fault-servers';
import type { FaultServer } from '@gateway-errors/fault-servers';
import { Controller, Get, Module, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ApiOkResponse, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import ajv2020 from 'ajv/dist/2020.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatewayErrorsModule } from './index.js';
import * as entry from './swagger.js';
import { ApiUpstreamResponses, PROBLEM_SCHEMA, problemSchema } from './swagger.js';

// A CommonJS module whose `default` is the module itself: `.default` is right in every module system.
const Ajv2020 = ajv2020.default;
/** RFC 3986 URI references; the rest of the formats the schema names are checked by its patterns. */
const formats = { 'uri-reference': (value: string) => URL.canParse(value, 'http://base.invalid/') && !/[\s<>"{}|\\^`]/.test(value) };
const isProblem = new Ajv2020({ strict: true, allErrors: true, formats }).compile(PROBLEM_SCHEMA);
const PROBLEM_JSON = 'application/problem+json';
const UPSTREAM = [502, 503, 504] as const;

const conventions = defineConventions({ onError: false, requestIdHeader: 'x-correlation-id', typeBase: 'https://errors.example.com/' });

let refused: string;
let hang: FaultServer;

beforeAll(async () => {
  [refused, hang] = await Promise.all([refusedPort().then((port) => `http://127.0.0.1:${port}`), hangServer()]);
});

afterAll(() => hang.close());

/** Each route fails the way its name says, for real: a refused connection, an open circuit, a deadline. */
@Controller('orders')
class OrdersController {
  @Get('refused')
  @ApiOkResponse({ description: 'The stock.', schema: { type: 'object' } })
  @ApiUpstreamResponses(conventions)
  async refused(): Promise<unknown> {
    return (await fetchUpstream('inventory', `${refused}/stock`)).json();
  }

  @Get('unavailable')
  @ApiUpstreamResponses(conventions)
  unavailable(): never {
    throw new ServiceUnavailableError({ upstream: 'inventory', retryAfter: 30 });
  }

  @Get('timeout')
  @ApiUpstreamResponses(conventions)
  async timeout(): Promise<unknown> {
    return (await fetchUpstream('inventory', `${hang.url}/stock`, { timeoutMs: 100 })).json();
  }

  @Post()
  @ApiUpstreamResponses(conventions, { statuses: [400, 422, 502] })
  create(): never {
    throw new ServiceUnavailableError();
  }

  @Get('health')
  health(): { ok: true } {
    return { ok: true };
  }
}

/** Documented once, on the controller: every route gets the upstream statuses; a route may add its own. */
@Controller('stock')
@ApiUpstreamResponses(conventions)
class StockController {
  @Get()
  list(): never {
    throw new ServiceUnavailableError();
  }

  @Get(':sku')
  @ApiUpstreamResponses(conventions, { statuses: [404] })
  one(): never {
    throw new ServiceUnavailableError();
  }
}

@Module({ imports: [GatewayErrorsModule.forRoot(conventions)], controllers: [OrdersController, StockController] })
class AppModule {}

const apps: INestApplication[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

type Platform = 'express' | 'fastify';

async function start(module: unknown, platform: Platform): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(module as never, platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

function documentOf(app: INestApplication, openapi = '3.0.0'): OpenAPIObject {
  return SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('Orders').setVersion('1.0.0').setOpenAPIVersion(openapi).build());
}

/** swagger-parser dereferences what it validates in place: a copy. (Its `openapi-types` and Nest's document types differ in details.) */
async function validateDocument(document: OpenAPIObject): Promise<void> {
  await SwaggerParser.validate(structuredClone(document) as never);
}

function responsesOf(document: OpenAPIObject, path: string, method: 'get' | 'post' = 'get'): Record<string, OpenApiResponse> {
  const operation = document.paths[path]?.[method];
  expect(operation, `${method.toUpperCase()} ${path}`).toBeDefined();
  return operation?.responses as Record<string, OpenApiResponse>;
}

describe('the entry', () => {
  it('pins its public API', () => {
    expect(Object.keys(entry).sort()).toMatchInlineSnapshot(`
      [
        "ApiUpstreamResponses",
        "PROBLEM_SCHEMA",
        "problemSchema",
      ]
    `);
  });

  it('refuses options it cannot honour when the class is defined, not when the document is built', () => {
    expect(() => ApiUpstreamResponses(conventions, { statuses: [418 as 502] })).toThrow(/no response for status 418/);
    expect(() => ApiUpstreamResponses(conventions, { openapi: '2.0' as '3.0' })).toThrow(/openapi must be '3.0' or '3.1'/);
    expect(() => ApiUpstreamResponses({ typeBase: 'not a uri' })).toThrow(/typeBase/);
  });
});

describe.each(['express', 'fastify'] as const)('platform-%s', (platform) => {
  it('documents each decorated route with the core responses, in a valid OpenAPI 3.0 document', async () => {
    const { app } = await start(AppModule, platform);
    const document = documentOf(app);
    await validateDocument(document);
    const expected = problemResponses(conventions, { openapi: '3.0' });
    for (const path of ['/orders/refused', '/orders/unavailable', '/orders/timeout', '/stock']) {
      const responses = responsesOf(document, path);
      for (const status of UPSTREAM) expect(responses[status], `${path} ${status}`).toEqual(expected[status]);
    }
  });

  it('gives each status its description, headers, media type, schema and examples', async () => {
    const { app } = await start(AppModule, platform);
    const responses = responsesOf(documentOf(app), '/orders/refused');
    expect(Object.keys(responses).sort()).toEqual(['200', '502', '503', '504']);
    // The success answer keeps the route's media type; only the problems are application/problem+json.
    expect(Object.keys(responses['200']?.content ?? {})).toEqual(['application/json']);
    for (const status of UPSTREAM) {
      const response = responses[status];
      expect(response?.description).toMatch(/\S/);
      expect(Object.keys(response?.content ?? {})).toEqual([PROBLEM_JSON]);
      const media = response?.content[PROBLEM_JSON];
      expect(media?.schema).toEqual(problemSchema('3.0'));
      expect(Object.values(media?.examples ?? {}).length).toBeGreaterThan(0);
      for (const example of Object.values(media?.examples ?? {})) {
        expect(example.value).toMatchObject({ status, type: expect.stringMatching(/^https:\/\/errors\.example\.com\//) });
        expect(isProblem(example.value), JSON.stringify(isProblem.errors)).toBe(true);
      }
      // The conventions' request-ID header, not the default one.
      expect(Object.keys(response?.headers ?? {}).sort()).toEqual(['Cache-Control', 'Proxy-Status', 'Retry-After', 'x-correlation-id']);
      expect(response?.headers['Retry-After']?.required).toBe(status === 503);
    }
    expect(Object.keys(responses['502']?.content[PROBLEM_JSON]?.examples ?? {})).toContain('UPSTREAM_UNREACHABLE');
    expect(Object.keys(responses['503']?.content[PROBLEM_JSON]?.examples ?? {})).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(Object.keys(responses['504']?.content[PROBLEM_JSON]?.examples ?? {})).toContain('UPSTREAM_TIMEOUT');
  });

  it('documents what a route asks for, adds to the controller, and leaves undecorated routes alone', async () => {
    const { app } = await start(AppModule, platform);
    const document = documentOf(app);
    const all = problemResponses(conventions, { openapi: '3.0', statuses: [400, 404, 422, 502, 503, 504] });
    // As with any @ApiResponse() on a route, @nestjs/swagger no longer adds its default success entry (201 here).
    expect(responsesOf(document, '/orders', 'post')).toEqual({ '400': all['400'], '422': all['422'], '502': all['502'] });
    expect(responsesOf(document, '/stock/{sku}')).toEqual({ '404': all['404'], '502': all['502'], '503': all['503'], '504': all['504'] });
    // On the controller, the route's default success entry stays.
    expect(responsesOf(document, '/stock')).toEqual({ '200': { description: '' }, '502': all['502'], '503': all['503'], '504': all['504'] });
    expect(responsesOf(document, '/orders/health')).toEqual({ '200': { description: '' } });
  });

  it('gives every document its own objects: one changed in place leaves the next one as it was', async () => {
    const Documented = ApiUpstreamResponses(conventions);
    @Controller('shared')
    class SharedController {
      @Get('a')
      @Documented
      a(): never {
        throw new ServiceUnavailableError();
      }

      @Get('b')
      @Documented
      b(): never {
        throw new ServiceUnavailableError();
      }
    }
    @Module({ controllers: [SharedController] })
    class SharedModule {}
    const { app } = await start(SharedModule, platform);
    const first = documentOf(app);
    // Tools annotate documents in place: swagger-parser dereferences, generators add titles and ids.
    (responsesOf(first, '/shared/a')['503']?.content[PROBLEM_JSON]?.schema as Record<string, unknown>)['x-annotated'] = true;
    (responsesOf(first, '/shared/b')['502']?.headers as Record<string, unknown>)['X-Added'] = {};
    const second = documentOf(app);
    const expected = problemResponses(conventions, { openapi: '3.0' });
    for (const path of ['/shared/a', '/shared/b']) {
      for (const status of UPSTREAM) expect(responsesOf(second, path)[status], `${path} ${status}`).toEqual(expected[status]);
    }
  });

  it('builds a valid OpenAPI 3.1 document, with the 3.0 schema or the 3.1 one', async () => {
    @Controller('v31')
    @ApiUpstreamResponses(conventions, { openapi: '3.1' })
    class V31Controller {
      @Get()
      get(): never {
        throw new ServiceUnavailableError();
      }
    }
    @Module({ imports: [GatewayErrorsModule.forRoot(conventions)], controllers: [OrdersController, V31Controller] })
    class V31Module {}
    const { app } = await start(V31Module, platform);
    const document = documentOf(app, '3.1.0');
    expect(document.openapi).toBe('3.1.0');
    await validateDocument(document);
    expect(responsesOf(document, '/v31')['503']).toEqual(problemResponses(conventions, { openapi: '3.1' })['503']);
    expect(responsesOf(document, '/orders/timeout')['504']).toEqual(problemResponses(conventions, { openapi: '3.0' })['504']);
  });

  it.each([
    { path: '/orders/refused', status: 502, code: 'UPSTREAM_UNREACHABLE' },
    { path: '/orders/unavailable', status: 503, code: 'UPSTREAM_UNAVAILABLE' },
    { path: '/orders/timeout', status: 504, code: 'UPSTREAM_TIMEOUT' },
  ] as const)('answers $path with the $status the document describes', async ({ path, status, code }) => {
    const { app, url } = await start(AppModule, platform);
    const documented = responsesOf(documentOf(app), path)[status];
    const response = await fetch(`${url}${path}`, { headers: { 'x-correlation-id': `doc-${status}` } });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status, code, requestId: `doc-${status}` });

    // Valid against the JSON Schema of the core, and against the schema the document shows for this status.
    expect(isProblem(body), JSON.stringify(isProblem.errors)).toBe(true);
    const isDocumented = new Ajv2020({ strict: false, validateFormats: false }).compile(documented?.content[PROBLEM_JSON]?.schema ?? false);
    expect(isDocumented(body), JSON.stringify(isDocumented.errors)).toBe(true);
    // One of the documented examples has this code, and the same members.
    const examples = Object.values(documented?.content[PROBLEM_JSON]?.examples ?? {}).map(({ value }) => value as Record<string, unknown>);
    const example = examples.find((candidate) => candidate['code'] === code);
    expect(example).toBeDefined();
    expect(Object.keys(body).filter((name) => name !== 'debug' && name !== 'upstream').sort()).toEqual(
      Object.keys(example ?? {})
        .filter((name) => name !== 'retryAfter' || 'retryAfter' in body)
        .sort(),
    );
    // Every header the document says is always there, is there.
    for (const [name, header] of Object.entries(documented?.headers ?? {})) {
      if (header.required === true) expect(response.headers.get(name), name).toBeTruthy();
    }
    expect(response.headers.get('cache-control')).toBe('no-store');
    if (status === 503) expect(response.headers.get('retry-after')).toBe('30');
  });
});
