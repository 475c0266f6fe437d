/**
 * The bare twins: for each proxy stack of the example gateways, the same proxy library wired the way
 * its documentation shows, with the same deadline given through the library's own option, and no
 * gateway-errors. What they answer is each library's default.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import proxyPlugin from '@fastify/http-proxy';
import { HttpModule, HttpService } from '@nestjs/axios';
import { All, Controller, Inject, Module, Req, Res, StreamableFile } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express from 'express';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import { proxy } from 'hono/proxy';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { firstValueFrom } from 'rxjs';

/** What every bare twin is given: where the services live and the deadline of a proxied call. */
export interface BareOptions {
  readonly upstreams: Readonly<Record<string, string>>;
  readonly services: readonly string[];
  readonly timeoutMs: number;
}

/** Express with http-proxy-middleware: `createProxyMiddleware` per service, `proxyTimeout` as the deadline. */
export function bareExpress({ upstreams, services, timeoutMs }: BareOptions): express.Express {
  const app = express();
  for (const service of services) {
    app.use(`/${service}`, createProxyMiddleware({ target: upstreams[service], changeOrigin: true, proxyTimeout: timeoutMs }));
  }
  return app;
}

/** Fastify with @fastify/http-proxy: one registration per prefix, undici's timeouts as the deadline. */
export async function bareFastify({ upstreams, services, timeoutMs }: BareOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  for (const service of services) {
    await app.register(proxyPlugin, {
      upstream: upstreams[service] ?? '',
      prefix: `/${service}`,
      undici: { headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
    });
  }
  return app;
}

/** Hono with `proxy()` from hono/proxy, the request passed as `raw`, `AbortSignal.timeout` as the deadline. */
export function bareHono({ upstreams, services, timeoutMs }: BareOptions): Hono {
  const app = new Hono();
  for (const service of services) {
    app.all(`/${service}/*`, (c) =>
      proxy(`${upstreams[service]}${c.req.path.slice(service.length + 1)}`, { raw: c.req.raw, signal: AbortSignal.timeout(timeoutMs) }),
    );
  }
  return app;
}

const OPTIONS = Symbol('bare-options');

interface IncomingLike {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: unknown;
}

/** Response headers a proxy does not copy: hop-by-hop ones, and those axios has made untrue (it decodes and buffers). */
const NOT_COPIED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'upgrade']);

@Controller()
class BareController {
  constructor(
    @Inject(HttpService) private readonly http: HttpService,
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
    @Inject(OPTIONS) private readonly options: BareOptions,
  ) {}

  @All(':service/*')
  async forward(@Req() req: IncomingLike, @Res() res: unknown): Promise<void> {
    const [, service = '', ...rest] = req.url.split('?')[0]!.split('/');
    const base = this.options.services.includes(service) ? this.options.upstreams[service] : undefined;
    if (base === undefined) throw new Error('no such service');
    const upstream = await firstValueFrom(
      this.http.request<Buffer>({
        method: req.method,
        url: `${base}/${rest.join('/')}`,
        data: req.body,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        responseType: 'arraybuffer',
        timeout: this.options.timeoutMs,
      }),
    );
    const adapter = this.host.httpAdapter;
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (!NOT_COPIED.has(name) && (typeof value === 'string' || typeof value === 'number')) adapter.setHeader(res, name, String(value));
    }
    adapter.reply(res, new StreamableFile(upstream.data), upstream.status);
  }
}

/** NestJS with @nestjs/axios: `HttpService.request()` in a catch-all controller, axios' `timeout` as the deadline. */
export async function bareNest(options: BareOptions & { readonly platform: 'express' | 'fastify' }): Promise<INestApplication> {
  @Module({
    imports: [HttpModule],
    controllers: [BareController],
    providers: [{ provide: OPTIONS, useValue: options }],
  })
  class BareModule {}
  return NestFactory.create(BareModule, options.platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
}

/** The Node.js server of a Nest app. */
export function nestServer(app: INestApplication): Server {
  return app.getHttpServer() as Server;
}
