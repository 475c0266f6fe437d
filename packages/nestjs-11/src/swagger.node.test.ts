/**
 * `@ApiUpstreamResponses()` with @nestjs/swagger 11, the oldest major of its peer range, on NestJS 11:
 * the document holds the problem responses, on a route and on a controller, and a real failure answers
 * as documented. The full suite, against @nestjs/swagger 12, is `packages/nestjs/src/swagger.node.test.ts`.
 */
import 'reflect-metadata';
import { Controller, Get, Module, ServiceUnavailableException } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import swagger from '@nestjs/swagger/package.json' with { type: 'json' };
import { ApiOkResponse, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject, ResponseObject } from '@nestjs/swagger';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayErrorsModule } from '../../nestjs/src/index.js';
import { ApiUpstreamResponses, problemSchema } from '../../nestjs/src/swagger.js';

const PROBLEM_JSON = 'application/problem+json';
const conventions = { onError: false, requestIdHeader: 'x-correlation-id' } as const;

@Controller('orders')
class OrdersController {
  @Get()
  @ApiOkResponse({ description: 'The orders.', schema: { type: 'array' } })
  @ApiUpstreamResponses(conventions)
  list(): never {
    throw new ServiceUnavailableException();
  }
}

@Controller('stock')
@ApiUpstreamResponses(conventions, { statuses: [503] })
class StockController {
  @Get()
  list(): never {
    throw new ServiceUnavailableException();
  }
}

@Module({ imports: [GatewayErrorsModule.forRoot(conventions)], controllers: [OrdersController, StockController] })
class AppModule {}

const apps: INestApplication[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

function responsesOf(document: OpenAPIObject, path: string): Record<string, ResponseObject> {
  return (document.paths[path]?.get?.responses ?? {}) as Record<string, ResponseObject>;
}

describe.each(['express', 'fastify'] as const)(`@nestjs/swagger ${swagger.version} on platform-%s`, (platform) => {
  it('documents the problem responses and answers as documented', async () => {
    expect(swagger.version).toMatch(/^11\./);
    const app = await NestFactory.create(AppModule, platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('Orders').build());

    const orders = responsesOf(document, '/orders');
    expect(Object.keys(orders).sort()).toEqual(['200', '502', '503', '504']);
    expect(Object.keys(orders['200']?.content ?? {})).toEqual(['application/json']);
    expect(Object.keys(responsesOf(document, '/stock')).sort()).toEqual(['200', '503']);
    const documented = orders['503'];
    expect(Object.keys(documented?.content ?? {})).toEqual([PROBLEM_JSON]);
    const media = documented?.content?.[PROBLEM_JSON];
    expect(media?.schema).toEqual(problemSchema('3.0'));
    expect(Object.keys(media?.examples ?? {})).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(Object.keys(documented?.headers ?? {}).sort()).toEqual(['Cache-Control', 'Proxy-Status', 'Retry-After', 'x-correlation-id']);
    expect(responsesOf(document, '/stock')['503']).toEqual(documented);

    const response = await fetch(`${await app.getUrl()}/orders`, { headers: { 'x-correlation-id': 'n11-1' } });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json\b/);
    for (const [name, header] of Object.entries(documented?.headers ?? {})) {
      if ('required' in header && header.required === true) expect(response.headers.get(name), name).toBeTruthy();
    }
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 503, code: 'UPSTREAM_UNAVAILABLE', requestId: 'n11-1' });
    for (const name of problemSchema('3.0')['required'] as string[]) expect(body, name).toHaveProperty(name);
  });
});
