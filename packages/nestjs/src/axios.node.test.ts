import 'reflect-metadata';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineConventions, hopOf } from '@gateway-errors/core';
import { runWithHop } from '@gateway-errors/core/node';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Controller, Get, Inject, Injectable, Module, Param, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import axios from 'axios';
import type { InternalAxiosRequestConfig } from 'axios';
import { lastValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { forwardThroughAxios, GatewayErrorsModule } from './index.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const PROBLEM_JSON = 'application/problem+json; charset=utf-8';
const FAULTS = Symbol('faults');

/** An upstream on 127.0.0.1 that answers every request with the headers it received. */
async function echoServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let faults: Faults;
let echo: { url: string; server: Server };

beforeAll(async () => {
  [faults, echo] = await Promise.all([startFaults(), echoServer()]);
});

afterAll(async () => {
  echo.server.closeAllConnections();
  await Promise.all([faults.close(), new Promise<void>((resolve) => echo.server.close(() => resolve()))]);
});

@Injectable()
class UpstreamClient {
  constructor(@Inject(HttpService) private readonly http: HttpService) {
    forwardThroughAxios(http.axiosRef);
  }

  async get(url: string): Promise<unknown> {
    return (await lastValueFrom(this.http.get<unknown>(url))).data;
  }
}

/** Where each failure is: the fault servers' URLs. */
const TARGETS: Record<string, (f: Faults) => string> = {
  refused: (f) => `${f.refused}/orders`,
  reset: (f) => `${f.reset}/orders`,
  hang: (f) => `${f.hang}/orders`,
  garbage: (f) => `${f.garbage}/orders`,
  tls: (f) => `${f.tls}/orders`,
  'upstream-503': (f) => `${f.status}/status/503`,
};

@Controller()
class GatewayController {
  constructor(
    @Inject(UpstreamClient) private readonly client: UpstreamClient,
    @Inject(FAULTS) private readonly faults: () => Faults,
  ) {}

  @Get('echo')
  echo(): Promise<unknown> {
    return this.client.get(`${echo.url}/headers`);
  }

  @Post('echo')
  echoPost(): Promise<unknown> {
    return this.client.get(`${echo.url}/headers`);
  }

  @Get('fail/:fault')
  fail(@Param('fault') fault: string): Promise<unknown> {
    return this.client.get(TARGETS[fault]!(this.faults()));
  }
}

const apps: INestApplication[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(platform: 'express' | 'fastify'): Promise<string> {
  @Module({
    // A short default deadline, so a hanging upstream answers quickly.
    imports: [GatewayErrorsModule.forRoot({ onError: false, upstreamTimeoutMs: 300 }), HttpModule.register({})],
    controllers: [GatewayController],
    providers: [UpstreamClient, { provide: FAULTS, useValue: () => faults }],
  })
  class AppModule {}

  const app = await NestFactory.create(AppModule, platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}

const FAILURES = [
  { fault: 'refused', status: 502, code: 'UPSTREAM_UNREACHABLE', proxyStatus: 'gateway-errors; error=connection_refused' },
  { fault: 'reset', status: 502, code: 'UPSTREAM_CONNECTION_LOST', proxyStatus: 'gateway-errors; error=connection_terminated' },
  { fault: 'hang', status: 504, code: 'UPSTREAM_TIMEOUT', proxyStatus: 'gateway-errors; error=http_response_timeout' },
  { fault: 'garbage', status: 502, code: 'UPSTREAM_BAD_RESPONSE', proxyStatus: 'gateway-errors; error=http_protocol_error' },
  { fault: 'tls', status: 502, code: 'UPSTREAM_TLS_FAILURE', proxyStatus: 'gateway-errors; error=tls_certificate_error' },
  { fault: 'upstream-503', status: 503, code: 'UPSTREAM_UNAVAILABLE', proxyStatus: 'gateway-errors; received-status=503', retryAfter: '7' },
] as const;

describe.each(['express', 'fastify'] as const)('@nestjs/axios on platform-%s', (platform) => {
  it.each(['GET', 'POST'])('forwards the request ID it answers with and the traceparent (%s)', async (method) => {
    const url = await start(platform);
    const response = await fetch(`${url}/echo`, {
      method,
      headers: { 'x-request-id': 'nest-axios-1', traceparent: TRACEPARENT, 'content-type': 'application/json' },
      ...(method === 'POST' ? { body: '{"name":"x"}' } : {}),
    });
    const received = (await response.json()) as IncomingHttpHeaders;
    expect(response.headers.get('x-request-id')).toBe('nest-axios-1');
    expect(received['x-request-id']).toBe('nest-axios-1');
    expect(received['traceparent']).toBe(TRACEPARENT);
  });

  it('forwards a generated request ID, and invents no traceparent', async () => {
    const url = await start(platform);
    const response = await fetch(`${url}/echo`, { headers: { 'x-request-id': '<script>x</script>', traceparent: 'not-a-traceparent' } });
    const received = (await response.json()) as IncomingHttpHeaders;
    const answered = response.headers.get('x-request-id');
    expect(answered).toMatch(/^[0-9a-f-]{36}$/);
    expect(received['x-request-id']).toBe(answered);
    expect(received['traceparent']).toBeUndefined();
  });

  it('keeps each request its own ID under concurrency', async () => {
    const url = await start(platform);
    const ids = Array.from({ length: 20 }, (_, i) => `concurrent-${i}`);
    const received = await Promise.all(
      ids.map(async (id) => ((await (await fetch(`${url}/echo`, { headers: { 'x-request-id': id } })).json()) as IncomingHttpHeaders)['x-request-id']),
    );
    expect(received).toEqual(ids);
  });

  it.each(FAILURES)('answers $fault with $status $code through the filter', async ({ fault, status, code, proxyStatus, ...rest }) => {
    const url = await start(platform);
    const response = await fetch(`${url}/fail/${fault}`, { headers: { 'x-request-id': `nest-${fault}` } });
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status).toBe(status);
    expect(body).toMatchObject({ status, code, requestId: `nest-${fault}` });
    expect(response.headers.get('content-type')).toBe(PROBLEM_JSON);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-request-id')).toBe(`nest-${fault}`);
    expect(response.headers.get('proxy-status')).toBe(proxyStatus);
    expect(response.headers.get('retry-after')).toBe('retryAfter' in rest ? rest.retryAfter : null);
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|ECONN|timeout of/);
  });
});

describe('forwardThroughAxios', () => {
  const conventions = defineConventions({ requestIdHeader: 'x-correlation-id', upstreamTimeoutMs: 4321, onError: false });

  /** An axios instance whose final request configs are kept: an interceptor added first runs last. */
  function capturing(): { instance: ReturnType<typeof axios.create>; seen: InternalAxiosRequestConfig[] } {
    const instance = axios.create();
    const seen: InternalAxiosRequestConfig[] = [];
    instance.interceptors.request.use((config) => {
      seen.push(config);
      return config;
    });
    return { instance, seen };
  }

  it("uses the conventions' header and deadline, and keeps what a call sets itself", async () => {
    const { instance, seen } = capturing();
    forwardThroughAxios(instance);
    const hop = hopOf({ traceparent: TRACEPARENT }, 'conv-1', conventions);
    const [plain, own] = await runWithHop(hop, () =>
      Promise.all([
        instance.get<IncomingHttpHeaders>(`${echo.url}/a`),
        instance.get<IncomingHttpHeaders>(`${echo.url}/b`, { timeout: 1234, headers: { 'X-Correlation-Id': 'mine', traceparent: 'x' } }),
      ]),
    );
    expect(plain.data['x-correlation-id']).toBe('conv-1');
    expect(plain.data['x-request-id']).toBeUndefined();
    expect(plain.data['traceparent']).toBe(TRACEPARENT);
    expect(own.data['x-correlation-id']).toBe('mine');
    expect(own.data['traceparent']).toBe('x');
    expect(seen.map((config) => config.timeout)).toEqual([4321, 1234]);
  });

  it('outside a request: no headers, the default deadline or the one given', async () => {
    const first = capturing();
    forwardThroughAxios(first.instance);
    const second = capturing();
    forwardThroughAxios(second.instance, { timeoutMs: 250 });
    const [a] = await Promise.all([first.instance.get<IncomingHttpHeaders>(`${echo.url}/c`), second.instance.get(`${echo.url}/d`)]);
    expect(a.data['x-request-id']).toBeUndefined();
    expect(a.data['traceparent']).toBeUndefined();
    expect(first.seen[0]?.timeout).toBe(10_000);
    expect(second.seen[0]?.timeout).toBe(250);
  });

  it('installs one interceptor however often it is called', () => {
    const instance = axios.create();
    forwardThroughAxios(instance);
    forwardThroughAxios(instance);
    // axios' interceptor managers keep their handlers in `handlers`, with `null` where one was ejected.
    const { handlers } = instance.interceptors.request as unknown as { handlers: unknown[] };
    expect(handlers.filter((handler) => handler !== null)).toHaveLength(1);
  });

  it('rejects a deadline that is not one', () => {
    for (const timeoutMs of [0, -1, Number.NaN, Infinity, 2 ** 31]) {
      expect(() => forwardThroughAxios(axios.create(), { timeoutMs })).toThrow(TypeError);
    }
  });
});
