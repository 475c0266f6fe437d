// A NestJS gateway in front of an orders service, on platform-express or platform-fastify.
import 'reflect-metadata';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import type { Conventions } from '@gateway-errors/core';
import { GatewayErrorsModule } from '@gateway-errors/nestjs';
import { All, Controller, Get, Inject, Module, Param, Req } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

const ORDERS = Symbol('orders-url');

@Controller()
class OrdersController {
  constructor(@Inject(ORDERS) private readonly ordersUrl: string) {}

  @Get('health')
  health(): { ok: true } {
    return { ok: true };
  }

  @All('orders/:path')
  async order(@Param('path') path: string, @Req() req: { method: string; headers: Record<string, unknown> }): Promise<unknown> {
    const upstream = await fetchUpstream('orders', `${this.ordersUrl}/${encodeURIComponent(path)}`, {
      method: req.method,
      headers: { 'x-request-id': String(req.headers['x-request-id'] ?? '') },
      timeoutMs: 1000,
    });
    return upstream.json();
  }
}

export type Platform = 'express' | 'fastify';

export async function createApp(options: { conventions: Conventions; ordersUrl: string; platform: Platform; logger?: boolean }): Promise<INestApplication> {
  @Module({
    imports: [GatewayErrorsModule.forRoot(options.conventions)],
    controllers: [OrdersController],
    providers: [{ provide: ORDERS, useValue: options.ordersUrl }],
  })
  class AppModule {}

  return NestFactory.create(AppModule, options.platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), {
    logger: options.logger === false ? false : ['error', 'warn', 'log'],
  });
}
