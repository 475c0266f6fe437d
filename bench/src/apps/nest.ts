// NestJS 12 on platform-express and on platform-fastify: the failing route answered five ways, and the happy
// path bare or with the module.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { GatewayErrorsModule, GatewayExceptionFilter } from '@gateway-errors/nestjs';
import { randomUUID } from 'node:crypto';
import { BadGatewayException, Catch, Controller, Get, Injectable, Module, RequestMethod } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter, MiddlewareConsumer, ModuleMetadata, NestMiddleware, NestModule } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import { floorHeaders, FLOOR_BODY, upstreamCall } from './shared.js';
import type { RunningApp, Variant } from './shared.js';

interface NodeResponse {
  writeHead(status: number, headers: Record<string, string>): { end(body: string): unknown };
}

interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  headers(headers: Record<string, string>): FastifyReplyLike;
  send(body: string): unknown;
}

/** The floor: a static 502 problem+json written straight onto the response (through the reply on Fastify). */
@Catch()
class FloorFilter implements ExceptionFilter {
  catch(_exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<NodeResponse | FastifyReplyLike>();
    if ('writeHead' in response) response.writeHead(502, floorHeaders()).end(FLOOR_BODY);
    else response.code(502).headers(floorHeaders()).send(FLOOR_BODY);
  }
}

/** The hand-written request-ID middleware: a fresh UUID on every response. */
@Injectable()
class IdFloorMiddleware implements NestMiddleware {
  use(_req: unknown, res: { setHeader(name: string, value: string): unknown }, next: () => void): void {
    res.setHeader('x-request-id', randomUUID());
    next();
  }
}

export function start(variant: Variant, upstreamError: unknown): Promise<RunningApp> {
  return startOn('express', variant, upstreamError);
}

export function startOnFastify(variant: Variant, upstreamError: unknown): Promise<RunningApp> {
  return startOn('fastify', variant, upstreamError);
}

async function startOn(platform: 'express' | 'fastify', variant: Variant, upstreamError: unknown): Promise<RunningApp> {
  const callOrders = upstreamCall(upstreamError);

  // No constructor parameters: esbuild (tsx) emits no decorator metadata to inject from.
  @Controller()
  class OrdersController {
    @Get('ok')
    ok(): { ok: true } {
      return { ok: true };
    }

    @Get('orders/42')
    async order(): Promise<unknown> {
      if (variant !== 'peer') return callOrders();
      // BadGatewayException: the route turns the failure into a 502, Nest's default filter answers it.
      try {
        return await callOrders();
      } catch (cause) {
        throw new BadGatewayException('Bad Gateway', { cause });
      }
    }
  }

  const imports: NonNullable<ModuleMetadata['imports']> =
    variant === 'request-id' ? [GatewayErrorsModule.forRoot()] : variant === 'request-id-no-hop' ? [GatewayErrorsModule.forRoot({ hopStorage: false })] : [];
  @Module({ imports, controllers: [OrdersController], providers: [IdFloorMiddleware] })
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      if (variant === 'id-floor') consumer.apply(IdFloorMiddleware).forRoutes({ path: '*path', method: RequestMethod.ALL });
    }
  }

  // Nest's default logger: bootstrap lines and every unknown error go to stdout and stderr.
  const app = await NestFactory.create(AppModule, platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter());
  // The filter alone, as its README shows: the request-ID middleware is what the happy path measures.
  if (variant === 'ge-quiet') app.useGlobalFilters(new GatewayExceptionFilter(app.get(HttpAdapterHost), { onError: false }));
  if (variant === 'ge') app.useGlobalFilters(new GatewayExceptionFilter(app.get(HttpAdapterHost)));
  if (variant === 'floor') app.useGlobalFilters(new FloorFilter());
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  return { port: (server.address() as AddressInfo).port, close: () => app.close() };
}
