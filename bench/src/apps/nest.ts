// NestJS 12 on platform-express: the failing route answered five ways, and the happy path bare or with the module.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { GatewayErrorsModule, GatewayExceptionFilter } from '@gateway-errors/nestjs';
import { randomUUID } from 'node:crypto';
import { BadGatewayException, Catch, Controller, Get, Injectable, Module, RequestMethod } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter, MiddlewareConsumer, ModuleMetadata, NestMiddleware, NestModule } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import { floorHeaders, FLOOR_BODY, upstreamCall } from './shared.js';
import type { RunningApp, Variant } from './shared.js';

interface NodeResponse {
  writeHead(status: number, headers: Record<string, string>): { end(body: string): unknown };
}

/** The floor: a static 502 problem+json written straight onto the response. */
@Catch()
class FloorFilter implements ExceptionFilter {
  catch(_exception: unknown, host: ArgumentsHost): void {
    host.switchToHttp().getResponse<NodeResponse>().writeHead(502, floorHeaders()).end(FLOOR_BODY);
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

export async function start(variant: Variant, upstreamError: unknown): Promise<RunningApp> {
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

  const imports: NonNullable<ModuleMetadata['imports']> = variant === 'request-id' ? [GatewayErrorsModule.forRoot()] : [];
  @Module({ imports, controllers: [OrdersController], providers: [IdFloorMiddleware] })
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer): void {
      if (variant === 'id-floor') consumer.apply(IdFloorMiddleware).forRoutes({ path: '*path', method: RequestMethod.ALL });
    }
  }

  // Nest's default logger: bootstrap lines and every unknown error go to stdout and stderr.
  const app = await NestFactory.create(AppModule, new ExpressAdapter());
  // The filter alone, as its README shows: the request-ID middleware is what the happy path measures.
  if (variant === 'ge-quiet') app.useGlobalFilters(new GatewayExceptionFilter(app.get(HttpAdapterHost), { onError: false }));
  if (variant === 'ge') app.useGlobalFilters(new GatewayExceptionFilter(app.get(HttpAdapterHost)));
  if (variant === 'floor') app.useGlobalFilters(new FloorFilter());
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  return { port: (server.address() as AddressInfo).port, close: () => app.close() };
}
