// A NestJS gateway in front of three services, on platform-express or platform-fastify.
import 'reflect-metadata';
import { SERVICES } from '@gateway-errors-examples/conventions';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import type { Conventions } from '@gateway-errors/core';
import { GatewayErrorsModule } from '@gateway-errors/nestjs';
import { All, Controller, Get, Inject, Module, Param, Req } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

const OPTIONS = Symbol('gateway-options');

interface GatewayOptions {
  readonly upstreams: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

interface IncomingLike {
  readonly method: string;
  readonly headers: Readonly<Record<string, unknown>>;
}

@Controller()
class GatewayController {
  constructor(@Inject(OPTIONS) private readonly options: GatewayOptions) {}

  @Get('health')
  health(): { ok: true } {
    return { ok: true };
  }

  @All(':service/:path')
  async forward(@Param('service') service: string, @Param('path') path: string, @Req() req: IncomingLike): Promise<unknown> {
    const base = (SERVICES as readonly string[]).includes(service) ? this.options.upstreams[service] : undefined;
    if (base === undefined) throw Object.assign(new Error('No route matches this request.'), { status: 404 });
    const upstream = await fetchUpstream(service, `${base}/${encodeURIComponent(path)}`, {
      method: req.method,
      headers: { 'x-request-id': String(req.headers['x-request-id'] ?? '') },
      timeoutMs: this.options.timeoutMs,
    });
    return upstream.json();
  }
}

export type Platform = 'express' | 'fastify';

export async function createApp(options: {
  conventions: Conventions;
  upstreams: Readonly<Record<string, string>>;
  platform: Platform;
  timeoutMs?: number;
  logger?: boolean;
}): Promise<INestApplication> {
  @Module({
    imports: [GatewayErrorsModule.forRoot(options.conventions)],
    controllers: [GatewayController],
    providers: [{ provide: OPTIONS, useValue: { upstreams: options.upstreams, timeoutMs: options.timeoutMs ?? 1000 } }],
  })
  class AppModule {}

  return NestFactory.create(AppModule, options.platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), {
    logger: options.logger === false ? false : ['error', 'warn', 'log'],
  });
}
