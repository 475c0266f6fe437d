/**
 * The proxy stacks of the conformance suite: each framework with its proxy library, wired in the one
 * line its adapter's README gives, in front of named upstreams. Every app mounts, for each upstream
 * `name` at `base`:
 *
 * - `/p/<name>/<rest>`: proxied to `<base>/<rest>` by the stack's proxy;
 * - `/route/<name>/<rest>`: a route of the same framework that calls `<base>/<rest>` with the core's
 *   `fetchUpstream` and lets what it throws escape, the reference a proxied answer must equal.
 *
 * Every upstream call has the same short deadline, {@link PROXY_DEADLINE_MS}.
 */
import 'reflect-metadata';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import proxy from '@fastify/http-proxy';
import replyFrom from '@fastify/reply-from';
import type { Conventions } from '@gateway-errors/core';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import { gatewayErrors, proxyProblems, requestId } from '@gateway-errors/express';
import fastifyGatewayErrors, { genReqId, proxyReplyOptions } from '@gateway-errors/fastify';
import { gatewayErrors as honoErrors, proxyUpstream, requestId as honoRequestId } from '@gateway-errors/hono';
import { forwardThroughAxios, GatewayErrorsModule } from '@gateway-errors/nestjs';
import { serve } from '@hono/node-server';
import { HttpModule, HttpService } from '@nestjs/axios';
import { All, Controller, Inject, Module, NotFoundException, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { AxiosError } from 'axios';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import * as hpm3 from 'hpm3';
import * as hpm4 from 'hpm4';
import { firstValueFrom } from 'rxjs';

/** The deadline of every upstream call, proxied or routed: short, so a hanging upstream costs little. */
export const PROXY_DEADLINE_MS = 300;
/** The upstream's name in logs (never a host or URL). */
const UPSTREAM = 'orders';

/** Upstream base URLs by name: `/p/<name>/…` and `/route/<name>/…` lead to each. */
export type Upstreams = Readonly<Record<string, string>>;

export interface RunningStack {
  readonly url: string;
  close(): Promise<void>;
}

/** One framework with one proxy library. */
export interface ProxyStack {
  readonly name: string;
  start(conventions: Conventions, upstreams: Upstreams): Promise<RunningStack>;
}

/** What comes after `/<kind>/<name>` in a path and query. */
function restOf(url: string, prefix: string): string {
  return url.slice(prefix.length);
}

/** The reference: the upstream called with `fetchUpstream`; what it throws is left to the framework's error handling. */
async function routed(base: string, rest: string): Promise<{ status: number; text: string }> {
  const answer = await fetchUpstream(UPSTREAM, `${base}${rest}`, { timeoutMs: PROXY_DEADLINE_MS });
  return { status: answer.status, text: await answer.text() };
}

function closing(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// ---------------------------------------------------------------------------
// Express + http-proxy-middleware 3 and 4

/** How each major is handed the spread of `proxyProblems()`, exactly as a user writes it. */
const hpm = {
  3: (target: string, conventions: Conventions): RequestHandler =>
    hpm3.createProxyMiddleware<Request, Response>({
      target,
      changeOrigin: true,
      ...proxyProblems(conventions, { upstream: UPSTREAM, timeoutMs: PROXY_DEADLINE_MS, upstreamErrors: 'problem' }),
    }),
  4: (target: string, conventions: Conventions): RequestHandler =>
    hpm4.createProxyMiddleware<Request, Response>({
      target,
      changeOrigin: true,
      ...proxyProblems(conventions, { upstream: UPSTREAM, timeoutMs: PROXY_DEADLINE_MS, upstreamErrors: 'problem' }),
    }),
} as const;

function expressStack(major: keyof typeof hpm): ProxyStack {
  return {
    name: `express@5 + http-proxy-middleware@${major}`,
    async start(conventions, upstreams) {
      const app = express();
      app.use(requestId(conventions));
      for (const [name, base] of Object.entries(upstreams)) {
        app.use(`/p/${name}`, hpm[major](base, conventions));
        // Under `app.use`, `req.url` is the rest of the path.
        app.use(`/route/${name}`, (req: Request, res: Response, next: NextFunction) => {
          routed(base, req.url).then(({ status, text }) => void res.status(status).send(text), next);
        });
      }
      app.use(gatewayErrors(conventions));
      const server = await new Promise<Server>((resolve) => {
        const listening: Server = app.listen(0, '127.0.0.1', () => resolve(listening));
      });
      return { url: urlOf(server), close: closing(server) };
    },
  };
}

// ---------------------------------------------------------------------------
// Fastify + @fastify/http-proxy and @fastify/reply-from

/** reply-from does not check certificates unless told to (see the Fastify adapter's README). */
const CHECKED = { undici: { connect: { rejectUnauthorized: true } } } as const;

function fastifyStack(library: '@fastify/http-proxy' | '@fastify/reply-from'): ProxyStack {
  return {
    name: `fastify@5 + ${library}`,
    async start(conventions, upstreams) {
      const app: FastifyInstance = Fastify({ genReqId: genReqId(conventions) });
      await app.register(fastifyGatewayErrors, conventions);
      const replyOptions = proxyReplyOptions(conventions, { upstream: UPSTREAM, timeoutMs: PROXY_DEADLINE_MS });
      if (library === '@fastify/reply-from') await app.register(replyFrom, CHECKED);
      for (const [name, base] of Object.entries(upstreams)) {
        const prefix = `/p/${name}`;
        if (library === '@fastify/http-proxy') {
          await app.register(proxy, { upstream: base, prefix, ...CHECKED, replyOptions });
        } else {
          app.all(`${prefix}/*`, (request, reply) => reply.from(`${base}${restOf(request.url, prefix)}`, replyOptions));
        }
        app.all(`/route/${name}/*`, async (request, reply) => {
          const { status, text } = await routed(base, restOf(request.url, `/route/${name}`));
          return reply.code(status).send(text);
        });
      }
      await app.listen({ host: '127.0.0.1', port: 0 });
      return { url: urlOf(app.server), close: () => app.close() };
    },
  };
}

// ---------------------------------------------------------------------------
// Hono + proxy() (hono/proxy) on @hono/node-server

const honoStack: ProxyStack = {
  name: 'hono@4 + proxy() (node-server)',
  async start(conventions, upstreams) {
    const app = new Hono();
    app.use(honoRequestId(conventions));
    const rest = (c: Context, prefix: string): string => {
      const url = new URL(c.req.url);
      return restOf(`${url.pathname}${url.search}`, prefix);
    };
    for (const [name, base] of Object.entries(upstreams)) {
      app.all(`/p/${name}/*`, (c) =>
        proxyUpstream(c, `${base}${rest(c, `/p/${name}`)}`, { upstream: UPSTREAM, timeoutMs: PROXY_DEADLINE_MS, raw: c.req.raw }),
      );
      app.all(`/route/${name}/*`, async (c) => {
        const { status, text } = await routed(base, rest(c, `/route/${name}`));
        return c.body(text, status as ContentfulStatusCode);
      });
    }
    app.onError(honoErrors(conventions));
    const server = await new Promise<Server>((resolve) => {
      const listening = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(listening as Server));
    });
    return { url: urlOf(server), close: closing(server) };
  },
};

// ---------------------------------------------------------------------------
// NestJS + @nestjs/axios (platform-express and platform-fastify): a catch-all controller that streams the upstream's answer

const UPSTREAMS = Symbol('upstreams');
/** Response headers not copied back: hop-by-hop ones. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'trailer']);

/** Fastify's reply, as far as the controller uses it. */
interface FastifyReplyLike {
  readonly raw: ServerResponse;
  hijack(): unknown;
}

interface IncomingLike {
  readonly method: string;
  readonly originalUrl: string;
}

@Controller()
class ProxyController {
  constructor(
    @Inject(HttpService) private readonly http: HttpService,
    @Inject(UPSTREAMS) private readonly upstreams: Upstreams,
  ) {
    forwardThroughAxios(http.axiosRef, { timeoutMs: PROXY_DEADLINE_MS });
  }

  /** `/<kind>/<name>/<rest>`: the upstream's base and the rest. */
  private resolve(kind: 'p' | 'route', url: string): { base: string; rest: string } {
    const name = url.split('/')[2] ?? '';
    const base = Object.hasOwn(this.upstreams, name) ? this.upstreams[name] : undefined;
    if (base === undefined) throw new NotFoundException();
    return { base, rest: restOf(url, `/${kind}/${name}`) };
  }

  @All('p/:name/*')
  async forward(@Req() req: IncomingLike, @Res() reply: ServerResponse | FastifyReplyLike): Promise<void> {
    const { base, rest } = this.resolve('p', req.originalUrl);
    // Answers below 500 (but 429) are the upstream's to give; the others throw an AxiosError, which the filter answers.
    const upstream = await firstValueFrom(
      this.http.request<Readable>({
        method: req.method,
        url: `${base}${rest}`,
        responseType: 'stream',
        decompress: false,
        maxRedirects: 0,
        validateStatus: (status) => status < 500 && status !== 429,
      }),
    ).catch((error: unknown) => {
      // Nobody reads the body of a failed answer: free the connection.
      (error as AxiosError<Readable> | undefined)?.response?.data?.destroy?.();
      throw error;
    });
    // Express's response is Node's; on Fastify the answer is written on the raw response, which Fastify is told of.
    let res: ServerResponse;
    if ('raw' in reply) {
      reply.hijack();
      res = reply.raw;
    } else {
      res = reply;
    }
    for (const [name, value] of Object.entries(upstream.headers)) {
      // This service's request ID (the conventions' default header) stays: the upstream's own is not copied over it.
      if (HOP_BY_HOP.has(name) || name === 'x-request-id') continue;
      if (typeof value === 'string' || typeof value === 'number') res.setHeader(name, String(value));
    }
    res.writeHead(upstream.status);
    // A body that fails half-way destroys the response: the client sees it broken, never complete.
    pipeline(upstream.data, res, () => {});
  }

  @All('route/:name/*')
  async route(@Req() req: IncomingLike): Promise<string> {
    const { base, rest } = this.resolve('route', req.originalUrl);
    return (await routed(base, rest)).text;
  }
}

function nestStack(platform: 'express' | 'fastify'): ProxyStack {
  return {
    name: `nestjs@12 (platform-${platform}) + @nestjs/axios`,
    async start(conventions, upstreams) {
      @Module({
        imports: [GatewayErrorsModule.forRoot(conventions), HttpModule.register({})],
        controllers: [ProxyController],
        providers: [{ provide: UPSTREAMS, useValue: upstreams }],
      })
      class AppModule {}

      const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
      const app = await NestFactory.create(AppModule, adapter, { logger: false });
      await app.listen(0, '127.0.0.1');
      return { url: urlOf(app.getHttpServer() as Server), close: () => app.close() };
    },
  };
}

export const proxyStacks: readonly ProxyStack[] = [
  expressStack(3),
  expressStack(4),
  fastifyStack('@fastify/http-proxy'),
  fastifyStack('@fastify/reply-from'),
  honoStack,
  nestStack('express'),
  nestStack('fastify'),
];
