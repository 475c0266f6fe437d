/**
 * `@UseFilters(GatewayExceptionFilter)` on a controller: Nest makes that filter itself, and it must answer
 * with the app's conventions (the module's, or those of the global filter made with them), never with
 * other ones, on both platforms; two apps in one process keep their own.
 */
import 'reflect-metadata';
import { refusedPort } from '@gateway-errors/fault-servers';
import { Controller, Get, Module, UseFilters } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatewayErrorsModule, GatewayExceptionFilter } from './index.js';

let port: number;

beforeAll(async () => {
  port = await refusedPort();
});

@Controller('filtered')
@UseFilters(GatewayExceptionFilter)
class FilteredController {
  @Get()
  async call(): Promise<unknown> {
    return (await fetch(`http://127.0.0.1:${port}/`)).json();
  }
}

@Controller('method')
class MethodController {
  @Get()
  @UseFilters(GatewayExceptionFilter)
  async call(): Promise<unknown> {
    return (await fetch(`http://127.0.0.1:${port}/`)).json();
  }
}

const running: INestApplication[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.close()));
});

async function start(module: object, platform: 'express' | 'fastify', setup?: (app: INestApplication) => void): Promise<string> {
  const app = await NestFactory.create(module as never, platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
  setup?.(app);
  running.push(app);
  await app.listen(0, '127.0.0.1');
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

async function typeOf(url: string): Promise<{ status: number; type: unknown; header: string | null }> {
  const response = await fetch(url, { headers: { 'x-correlation-id': 'corr-1', 'x-request-id': 'req-1' } });
  const body = (await response.json()) as { type?: unknown; requestId?: unknown };
  return { status: response.status, type: body.type, header: response.headers.get('x-correlation-id') };
}

describe.each(['express', 'fastify'] as const)('platform-%s', (platform) => {
  it("a controller's filter answers with the module's conventions", async () => {
    @Module({
      imports: [GatewayErrorsModule.forRoot({ typeBase: 'https://errors.example.com/a/', requestIdHeader: 'X-Correlation-ID', onError: false })],
      controllers: [FilteredController, MethodController],
    })
    class AppModule {}
    const url = await start(AppModule, platform);
    for (const path of ['/filtered', '/method']) {
      expect(await typeOf(url + path)).toEqual({ status: 502, type: 'https://errors.example.com/a/upstream-unreachable', header: 'corr-1' });
    }
  });

  it('without the module, it answers with the conventions the global filter was made with', async () => {
    @Module({ controllers: [FilteredController, MethodController] })
    class AppModule {}
    const url = await start(AppModule, platform, (app) => {
      app.useGlobalFilters(new GatewayExceptionFilter(app.get(HttpAdapterHost), { typeBase: 'https://errors.example.com/b/', onError: false }));
    });
    for (const path of ['/filtered', '/method']) {
      expect((await typeOf(url + path)).type).toBe('https://errors.example.com/b/upstream-unreachable');
    }
  });

  it('two apps in one process keep their own conventions', async () => {
    @Module({ imports: [GatewayErrorsModule.forRoot({ typeBase: 'https://errors.example.com/c/', onError: false })], controllers: [FilteredController] })
    class First {}
    @Module({ controllers: [FilteredController] })
    class Second {}
    const first = await start(First, platform);
    const second = await start(Second, platform, (app) => {
      app.useGlobalFilters(new GatewayExceptionFilter(app.get(HttpAdapterHost), { typeBase: 'https://errors.example.com/d/', onError: false }));
    });
    expect((await typeOf(`${first}/filtered`)).type).toBe('https://errors.example.com/c/upstream-unreachable');
    expect((await typeOf(`${second}/filtered`)).type).toBe('https://errors.example.com/d/upstream-unreachable');
  });

  it('with no conventions anywhere, the defaults', async () => {
    @Module({ controllers: [FilteredController] })
    class AppModule {}
    const url = await start(AppModule, platform);
    expect((await typeOf(`${url}/filtered`)).type).toBe('urn:gateway-errors:upstream-unreachable');
  });
});
