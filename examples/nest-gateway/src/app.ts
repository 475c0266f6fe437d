// A NestJS gateway in front of three services, on platform-express or platform-fastify: a catch-all
// controller forwards `/<service>/…` with @nestjs/axios; forwardThroughAxios() puts the request ID and
// trace context on every call and gives it the deadline; withUpstream() names the service in what fails,
// and GatewayExceptionFilter answers it.
// GET /metrics serves the registry: the conventions count upstream failures in it, and every answer counts by status.
// GET /openapi.json serves the OpenAPI document, in which the catch-all route shows the problems it answers.
import 'reflect-metadata';
import type { ServerResponse } from 'node:http';
import { requestsTotal, SERVICES } from '@gateway-errors-examples/conventions';
import type { Conventions } from '@gateway-errors/core';
import { withUpstream } from '@gateway-errors/core/upstream';
import { forwardThroughAxios, GatewayErrorsModule } from '@gateway-errors/nestjs';
import { ApiUpstreamResponses } from '@gateway-errors/nestjs/swagger';
import { HttpModule, HttpService } from '@nestjs/axios';
import { All, Controller, Get, Inject, Module, NotFoundException, Req, Res, StreamableFile } from '@nestjs/common';
import type { INestApplication, Type } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ApiDefaultResponse, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Registry } from 'prom-client';
import { firstValueFrom } from 'rxjs';

const OPTIONS = Symbol('gateway-options');

interface GatewayOptions {
  readonly registry: Registry;
  readonly upstreams: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly requestIdHeader: string;
}

interface IncomingLike {
  readonly method: string;
  /** The path and query as the client sent them (`originalUrl` on platform-express, where middleware may rewrite `url`). */
  readonly originalUrl?: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: unknown;
}

/** Request headers passed on to the upstream; the request ID and `traceparent` are set by forwardThroughAxios(). */
const FORWARDED = ['accept', 'accept-language', 'content-type', 'authorization', 'if-none-match', 'if-match'] as const;
/** Response headers not copied back: hop-by-hop ones, and those axios has made untrue (it decodes and buffers the body). */
const NOT_COPIED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'upgrade', 'proxy-authenticate', 'trailer']);

/**
 * The controller, made per app: decorators run when a class is defined, and the OpenAPI document shows the
 * request-ID header, problem types and Retry-After of this app's conventions.
 */
function gatewayController(conventions: Conventions): Type<unknown> {
  @Controller()
  class GatewayController {
    constructor(
      @Inject(HttpService) private readonly http: HttpService,
      @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
      @Inject(OPTIONS) private readonly options: GatewayOptions,
    ) {
      forwardThroughAxios(http.axiosRef, { timeoutMs: options.timeoutMs });
    }

    @Get('health')
    health(): { ok: true } {
      return { ok: true };
    }

    @Get('metrics')
    async metrics(@Res() res: unknown): Promise<void> {
      const { registry } = this.options;
      this.host.httpAdapter.setHeader(res, 'content-type', registry.contentType);
      this.host.httpAdapter.reply(res, await registry.metrics(), 200);
    }

    // `*` is the wildcard both platforms accept (Nest converts it for Express 5's router).
    @All(':service/*')
    // In the OpenAPI document: the service's own answers, and the 502/503/504 problems when it fails.
    @ApiDefaultResponse({ description: "The service's answer, passed on as it is." })
    @ApiUpstreamResponses(conventions)
    async forward(@Req() req: IncomingLike, @Res() res: unknown): Promise<void> {
      const url = req.originalUrl ?? req.url;
      const slash = url.indexOf('/', 1);
      const service = url.slice(1, slash);
      const base = (SERVICES as readonly string[]).includes(service) ? this.options.upstreams[service] : undefined;
      if (base === undefined) throw new NotFoundException();
      const headers: Record<string, string> = {};
      for (const name of FORWARDED) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      // Answers below 500 (but 429) are the upstream's to give; the others throw an AxiosError, which withUpstream()
      // tags with the service's name (the problem's upstream, the failures counter's label) and the filter answers.
      const upstream = await withUpstream(
        service,
        () =>
          firstValueFrom(
            this.http.request<Buffer>({
              method: req.method,
              url: base + url.slice(slash),
              headers,
              data: req.body,
              responseType: 'arraybuffer',
              maxRedirects: 0,
              validateStatus: (status) => status < 500 && status !== 429,
            }),
          ),
        // The deadline is axios' own, set by forwardThroughAxios().
        { timeoutMs: Infinity },
      );
      const adapter = this.host.httpAdapter;
      for (const [name, value] of Object.entries(upstream.headers)) {
        // This service's request ID stays on the answer: the upstream's own is not copied over it.
        if (NOT_COPIED.has(name) || name === this.options.requestIdHeader) continue;
        if (typeof value === 'string' || typeof value === 'number') adapter.setHeader(res, name, String(value));
      }
      // A StreamableFile is how Nest sends bytes as they are on both platforms (a Buffer would become JSON).
      adapter.reply(res, new StreamableFile(upstream.data), upstream.status);
    }
  }
  return GatewayController;
}

export type Platform = 'express' | 'fastify';

export async function createApp(options: {
  /** With `registry`, a pair from conventionsWithMetrics(). */
  conventions: Conventions;
  registry: Registry;
  upstreams: Readonly<Record<string, string>>;
  platform: Platform;
  /** The deadline of a proxied call. Default: the conventions' `upstreamTimeoutMs`. */
  timeoutMs?: number;
  logger?: boolean;
}): Promise<INestApplication> {
  const { conventions, registry, upstreams, timeoutMs = conventions.upstreamTimeoutMs } = options;
  @Module({
    imports: [GatewayErrorsModule.forRoot(conventions), HttpModule],
    controllers: [gatewayController(conventions)],
    providers: [{ provide: OPTIONS, useValue: { registry, upstreams, timeoutMs, requestIdHeader: conventions.requestIdHeader } satisfies GatewayOptions }],
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, options.platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), {
    logger: options.logger === false ? false : ['error', 'warn', 'log'],
  });
  const requests = requestsTotal(registry);
  // Middleware sees Node's response on both platforms: counted when it finishes, with the status it went out with.
  app.use((_req: unknown, res: ServerResponse, next: () => void) => {
    res.on('finish', () => requests.inc({ status: res.statusCode }));
    next();
  });
  // The document, built on its first request. Only the JSON: Swagger UI would also need @fastify/static on platform-fastify.
  const document = new DocumentBuilder().setTitle('nest-gateway').setVersion('1.0.0').build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, document), {
    swaggerUiEnabled: false,
    raw: ['json'],
    jsonDocumentUrl: 'openapi.json',
  });
  return app;
}
