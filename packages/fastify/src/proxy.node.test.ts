import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import proxy from '@fastify/http-proxy';
import replyFrom from '@fastify/reply-from';
import type { FastifyReplyFromOptions } from '@fastify/reply-from';
import { BadGatewayError, currentHop, defineConventions, forwardHeaders, GatewayTimeoutError, ServiceUnavailableError } from '@gateway-errors/core';
import type { Conventions, ErrorReport } from '@gateway-errors/core';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import { bodyStallServer, garbageServer, hangServer, refusedPort, resetServer, statusServer, tlsServer, truncatedServer } from '@gateway-errors/fault-servers';
import type { FaultServer } from '@gateway-errors/fault-servers';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import gatewayErrors, { genReqId, proxyReplyOptions, requestHop } from './index.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PROBLEM = 'application/problem+json; charset=utf-8';
/** Short enough to keep the suite quick; only the status it produces is asserted, never a duration. */
const DEADLINE_MS = 300;

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** Which certificate check the proxy is registered with. */
type Tls = 'default' | 'checked';

/** One way of proxying `/orders/*` to an upstream base URL, with the options of `proxyReplyOptions`. */
interface Target {
  readonly name: string;
  mount(app: FastifyInstance, base: string, conventions: Conventions, tls: Tls): Promise<void>;
}

const targets: readonly Target[] = [
  {
    name: '@fastify/http-proxy',
    async mount(app, base, conventions, tls) {
      await app.register(proxy, {
        upstream: base,
        prefix: '/orders',
        replyOptions: proxyReplyOptions(conventions, { upstream: 'orders' }),
        ...(tls === 'checked' ? { undici: { connect: { rejectUnauthorized: true } } } : {}),
      });
    },
  },
  ...(
    [
      ['undici', (tls: Tls) => (tls === 'checked' ? { undici: { connect: { rejectUnauthorized: true } } } : {})],
      ['node:http', (tls: Tls) => ({ http: tls === 'checked' ? { requestOptions: { rejectUnauthorized: true } } : {} })],
    ] as const
  ).map(
    ([client, agent]): Target => ({
      name: `@fastify/reply-from (${client})`,
      async mount(app, base, conventions, tls) {
        await app.register(replyFrom, { base, ...(agent(tls) as FastifyReplyFromOptions) });
        const options = proxyReplyOptions(conventions, { upstream: 'orders' });
        app.all('/orders/*', (request, reply) => reply.from(request.url.slice('/orders'.length), options));
      },
    }),
  ),
];

function logSink(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, stream };
}

interface Gateway {
  readonly url: string;
  readonly reports: ErrorReport[];
  /** The request ID current (AsyncLocalStorage) when each report was made. */
  readonly currentIds: (string | undefined)[];
  readonly lines: Record<string, unknown>[];
}

/** A gateway on 127.0.0.1: the plugin, `/orders/*` proxied by `target`, and `/thrown/:row` throwing the equivalent error. */
interface GatewayOptions {
  readonly tls?: Tls;
  /** Log through `request.log` (the plugin's default) instead of capturing reports. */
  readonly logged?: boolean;
  readonly routes?: (app: FastifyInstance) => void;
}

async function gateway(target: Target | undefined, base: string, { tls = 'checked', logged = false, routes }: GatewayOptions = {}): Promise<Gateway & { app: FastifyInstance }> {
  const reports: ErrorReport[] = [];
  const currentIds: (string | undefined)[] = [];
  const { lines, stream } = logSink();
  const conventions = defineConventions({
    upstreamTimeoutMs: DEADLINE_MS,
    ...(logged
      ? {}
      : {
          onError: (report: ErrorReport) => {
            reports.push(report);
            currentIds.push(currentHop()?.requestId);
          },
        }),
  });
  const app = Fastify({ logger: { stream, level: 'warn' } });
  apps.push(app);
  await app.register(gatewayErrors, conventions);
  if (target !== undefined) await target.mount(app, base, conventions, tls);
  app.get<{ Params: { row: string } }>('/thrown/:row', async (request) => {
    throw thrown(request.params.row);
  });
  routes?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, reports, currentIds, lines };
}

const withCode = (message: string, code: string, extra: object = {}): Error => Object.assign(new Error(message), { code, ...extra });

/** What a route throws for the same failure, without a proxy. */
function thrown(row: string): unknown {
  switch (row) {
    case 'refused':
      return withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED', { syscall: 'connect' });
    case 'reset':
      return withCode('read ECONNRESET', 'ECONNRESET', { syscall: 'read' });
    case 'garbage':
      return withCode('Parse Error: Expected HTTP/', 'HPE_INVALID_CONSTANT');
    case 'hang':
      return new GatewayTimeoutError({ upstream: 'orders', cause: withCode('Headers Timeout Error', 'UND_ERR_HEADERS_TIMEOUT') });
    case 'tls':
      return withCode('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT');
    case '503':
      return new ServiceUnavailableError({ upstream: 'orders', upstreamStatus: 503, retryAfter: 7 });
    case '429':
      return new ServiceUnavailableError({ upstream: 'orders', upstreamStatus: 429, retryAfter: 7 });
    case '504':
      return new GatewayTimeoutError({ upstream: 'orders', upstreamStatus: 504 });
    case '500':
      return new BadGatewayError({ upstream: 'orders', upstreamStatus: 500, code: 'UPSTREAM_ERROR_STATUS' });
    default:
      return new Error(`no such row: ${row}`);
  }
}

interface Seen {
  readonly status: number;
  readonly code: unknown;
  readonly proxyStatus: unknown;
  readonly headers: Record<string, string | null>;
}

async function seen(url: string, init: RequestInit = {}): Promise<Seen & { requestId: string | null; body: Record<string, unknown> }> {
  const response = await fetch(url, init);
  const body = (await response.json()) as Record<string, unknown>;
  const headers: Record<string, string | null> = {};
  for (const name of ['content-type', 'cache-control', 'proxy-status', 'retry-after', 'x-content-type-options']) headers[name] = response.headers.get(name);
  return { status: response.status, code: body['code'], proxyStatus: body['proxyStatus'], headers, requestId: response.headers.get('x-request-id'), body };
}

/** The failing upstreams, one per row: started once for the file. */
const rows: { name: string; path: string; status: number; code: string; proxyStatus: string; server: () => Promise<FaultServer | string> }[] = [
  { name: 'refused', path: '/x', status: 502, code: 'UPSTREAM_UNREACHABLE', proxyStatus: 'error=connection_refused', server: async () => `http://127.0.0.1:${await refusedPort()}` },
  { name: 'reset', path: '/x', status: 502, code: 'UPSTREAM_CONNECTION_LOST', proxyStatus: 'error=connection_terminated', server: resetServer },
  { name: 'garbage', path: '/x', status: 502, code: 'UPSTREAM_BAD_RESPONSE', proxyStatus: 'error=http_protocol_error', server: garbageServer },
  { name: 'hang', path: '/x', status: 504, code: 'UPSTREAM_TIMEOUT', proxyStatus: 'error=http_response_timeout', server: hangServer },
  { name: 'tls', path: '/x', status: 502, code: 'UPSTREAM_TLS_FAILURE', proxyStatus: 'error=tls_certificate_error', server: () => tlsServer({ selfSigned: true }) },
  { name: '503', path: '/status/503', status: 503, code: 'UPSTREAM_UNAVAILABLE', proxyStatus: 'received-status=503', server: statusServer },
  { name: '429', path: '/status/429', status: 503, code: 'UPSTREAM_UNAVAILABLE', proxyStatus: 'received-status=429', server: statusServer },
  { name: '504', path: '/status/504', status: 504, code: 'UPSTREAM_TIMEOUT', proxyStatus: 'received-status=504', server: statusServer },
  { name: '500', path: '/status/500', status: 502, code: 'UPSTREAM_ERROR_STATUS', proxyStatus: 'received-status=500', server: statusServer },
];

const upstreams = new Map<string, string>();
const servers: FaultServer[] = [];
beforeAll(async () => {
  for (const row of rows) {
    const started = await row.server();
    if (typeof started !== 'string') servers.push(started);
    upstreams.set(row.name, typeof started === 'string' ? started : started.url);
  }
});
afterAll(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe.each(targets)('$name', (target) => {
  it.each(rows)('$name: the same answer as a route that throws the equivalent error', async (row) => {
    const gw = await gateway(target, upstreams.get(row.name)!);
    const proxied = await seen(`${gw.url}/orders${row.path}`, { headers: { 'x-request-id': `px-${row.name}` } });
    const direct = await seen(`${gw.url}/thrown/${row.name}`);

    expect(proxied.status).toBe(row.status);
    expect(proxied.code).toBe(row.code);
    expect(proxied.requestId).toBe(`px-${row.name}`);
    expect(proxied.body['requestId']).toBe(`px-${row.name}`);
    expect(proxied.headers['content-type']).toBe(PROBLEM);
    expect(proxied.headers['cache-control']).toBe('no-store');
    expect({ status: proxied.status, code: proxied.code, proxyStatus: proxied.proxyStatus, headers: proxied.headers }).toEqual({
      status: direct.status,
      code: direct.code,
      proxyStatus: direct.proxyStatus,
      headers: direct.headers,
    });
    expect(proxied.headers['proxy-status']).toBe(`gateway-errors; ${row.proxyStatus}`);
    if (row.name === '503' || row.name === '429') expect(proxied.headers['retry-after']).toBe('7');
    // Reported once, naming the upstream, with this request's hop current in the error handler.
    const mine = gw.reports.filter((report) => report.requestId === `px-${row.name}`);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.classification.upstream).toBe('orders');
    expect(gw.currentIds[gw.reports.indexOf(mine[0]!)]).toBe(`px-${row.name}`);
  });

  it('hands on a 200 as it is, keeping this request ID over the upstream one', async () => {
    const echo = await echoServer();
    const gw = await gateway(target, echo.url);
    const response = await fetch(`${gw.url}/orders/echo`, { headers: { 'x-request-id': 'gw-ok-1', traceparent: TRACEPARENT } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('gw-ok-1');
    expect(await response.json()).toEqual({ ok: true });
    expect(echo.received).toHaveLength(1);
    expect(echo.received[0]).toMatchObject({ 'x-request-id': 'gw-ok-1', traceparent: TRACEPARENT });
  });

  it('sends the upstream a generated ID (the one the client gets) and no invalid trace context', async () => {
    const echo = await echoServer();
    const gw = await gateway(target, echo.url);
    const response = await fetch(`${gw.url}/orders/echo`, { headers: { 'x-request-id': 'not valid', traceparent: '00-zz-nope-01', tracestate: 'a=b' } });
    const answered = response.headers.get('x-request-id');
    await response.arrayBuffer();
    expect(answered).toMatch(UUID);
    expect(echo.received[0]?.['x-request-id']).toBe(answered);
    expect(echo.received[0]).not.toHaveProperty('traceparent');
    expect(echo.received[0]).not.toHaveProperty('tracestate');
  });

  it('logs the upstream request ID of a failed answer, and asks the upstream once for a 503', async () => {
    const echo = await echoServer();
    const gw = await gateway(target, echo.url, { logged: true });
    const failed = await seen(`${gw.url}/orders/fail`, { headers: { 'x-request-id': 'gw-500' } });
    expect(failed).toMatchObject({ status: 502, code: 'UPSTREAM_ERROR_STATUS', requestId: 'gw-500' });
    // Nothing of the upstream's answer reaches the client: not its body, not its headers.
    expect(failed.body).not.toHaveProperty('secret');
    expect(failed.headers['x-content-type-options']).toBe('nosniff');
    // request.log binds the request ID under Fastify's default label: the record names it once.
    const line = gw.lines.find((entry) => entry['reqId'] === 'gw-500' && entry['level'] === 50);
    expect(line).toMatchObject({ code: 'UPSTREAM_ERROR_STATUS', upstream: 'orders', err: { upstream: { status: 500, requestId: 'up-err-9' } } });
    expect(line).not.toHaveProperty('requestId');
    expect(JSON.stringify(failed.body)).not.toContain('up-err-9');

    const busy = await fetch(`${gw.url}/orders/busy`);
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('7');
    expect(busy.headers.get('set-cookie')).toBeNull();
    await busy.arrayBuffer();
    expect(echo.received.filter((headers) => headers[':path'] === '/busy')).toHaveLength(1);
  });

  it('the error handler sees the hop of its own request on a reused upstream connection', async () => {
    const echo = await echoServer();
    const gw = await gateway(target, echo.url);
    const first = await fetch(`${gw.url}/orders/echo`, { headers: { 'x-request-id': 'first' } });
    await first.arrayBuffer();
    const second = await seen(`${gw.url}/orders/fail`, { headers: { 'x-request-id': 'second' } });
    expect(second.requestId).toBe('second');
    expect(gw.reports.map((report) => report.requestId)).toEqual(['second']);
    expect(gw.currentIds).toEqual(['second']);
  });

  it('reset after the head: the client sees an aborted body, never a complete one', async () => {
    for (const server of [await truncatedServer(), await resetAfterHeadServer()]) {
      servers.push(server);
      const gw = await gateway(target, server.url);
      const response = await fetch(`${gw.url}/orders/x`);
      expect(response.status).toBe(200);
      await expect(response.text()).rejects.toThrow();
    }
  });

  it('a body that stalls past the deadline is cut off', async () => {
    const server = await bodyStallServer();
    servers.push(server);
    const gw = await gateway(target, server.url);
    const response = await fetch(`${gw.url}/orders/x`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  it('without rejectUnauthorized: true, a self-signed upstream is not checked: 200', async () => {
    const gw = await gateway(target, upstreams.get('tls')!, { tls: 'default' });
    const response = await fetch(`${gw.url}/orders/x`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });
});

/** POSTs a JSON body whose second part is written once the server has answered nothing yet but read the head. */
function postInTwoParts(url: string, headers: Record<string, string>, first: string, second: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': String(first.length + second.length) } });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
    });
    req.flushHeaders();
    req.write(first, () => setTimeout(() => req.end(second), 20));
  });
}

/** Reads the request, sends a 200 head announcing 100 bytes and 11 of them, then resets the connection. */
async function resetAfterHeadServer(): Promise<FaultServer> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nhello world', () => socket.resetAndDestroy());
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Echo {
  readonly url: string;
  /** The headers of every request, with `:path`. */
  readonly received: Record<string, unknown>[];
}

/**
 * An upstream that records each request's headers: `/echo` answers 200 with its own request ID,
 * `/fail` a 500 with its own request ID and a body and cookie the client must not see, `/busy` a 503
 * with `Retry-After: 7`.
 */
async function echoServer(): Promise<Echo> {
  const received: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    received.push({ ...(req.headers as IncomingHttpHeaders), ':path': path });
    if (path === '/fail') {
      res.writeHead(500, { 'content-type': 'application/json', 'x-request-id': 'up-err-9', 'set-cookie': 'up=1' }).end('{"secret":"db at 10.0.0.7"}');
    } else if (path === '/busy') {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '7', 'x-request-id': 'up-busy', 'set-cookie': 'up=1' }).end('{}');
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'up-ok-1' }).end('{"ok":true}');
    }
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  servers.push({
    url: '',
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return { url: `http://127.0.0.1:${port}`, received };
}

describe('the current hop', () => {
  it('is the request being handled in route handlers, after a parsed body, and in the error handler', async () => {
    const echo = await echoServer();
    const seenIds: unknown[] = [];
    const gw = await gateway(undefined, echo.url, {
      routes(app) {
        // A hook registered after the plugin runs inside the hop.
        app.addHook('onRequest', async () => {
          seenIds.push(currentHop()?.requestId);
        });
        app.post('/orders', async (request) => {
          seenIds.push(currentHop()?.requestId);
          await sleep(1);
          // fetchUpstream called while handling the request forwards it by itself.
          const answer = await fetchUpstream('orders', `${echo.url}/echo`);
          await answer.arrayBuffer();
          const { requestId, traceparent } = currentHop() ?? {};
          return { body: request.body, hop: { requestId, traceparent }, forwarded: forwardHeaders() };
        });
        app.get('/later', async () => {
          await sleep(1);
          throw withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED');
        });
      },
    });

    const response = await fetch(`${gw.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'hop-1', traceparent: TRACEPARENT },
      body: JSON.stringify({ item: 7 }),
    });
    expect(await response.json()).toEqual({
      body: { item: 7 },
      hop: { requestId: 'hop-1', traceparent: TRACEPARENT },
      forwarded: { 'x-request-id': 'hop-1', traceparent: TRACEPARENT },
    });
    expect(seenIds).toEqual(['hop-1', 'hop-1']);
    expect(echo.received[0]).toMatchObject({ 'x-request-id': 'hop-1', traceparent: TRACEPARENT });

    // A body that arrives after the head is read in the connection's own async context.
    const late = await postInTwoParts(`${gw.url}/orders`, { 'x-request-id': 'hop-3' }, '{"item":', '8}');
    expect(JSON.parse(late)).toMatchObject({ body: { item: 8 }, hop: { requestId: 'hop-3' }, forwarded: { 'x-request-id': 'hop-3' } });
    expect(echo.received[1]).toMatchObject({ 'x-request-id': 'hop-3' });

    const failed = await seen(`${gw.url}/later`, { headers: { 'x-request-id': 'hop-2' } });
    expect(failed.status).toBe(502);
    expect(gw.currentIds).toEqual(['hop-2']);
    // Outside a request there is none.
    expect(currentHop()).toBeUndefined();
  });

  it('holds the ID genReqId resolved', async () => {
    const conventions = defineConventions({ onError: false });
    const app = Fastify({ genReqId: genReqId(conventions) });
    apps.push(app);
    await app.register(gatewayErrors, conventions);
    app.get('/hop', async (request) => ({ current: currentHop()?.requestId, of: requestHop(request).requestId, id: request.id }));
    const response = await app.inject({ method: 'GET', url: '/hop', headers: { 'x-request-id': 'gen-1' } });
    expect(response.json()).toEqual({ current: 'gen-1', of: 'gen-1', id: 'gen-1' });
    const invalid = await app.inject({ method: 'GET', url: '/hop', headers: { 'x-request-id': 'a b' } });
    expect(invalid.json()['current']).toBe(invalid.headers['x-request-id']);
  });
});

describe('proxyReplyOptions', () => {
  it('takes its deadline from the conventions, or from timeoutMs', () => {
    expect(proxyReplyOptions().timeout).toBe(10_000);
    expect(proxyReplyOptions({ upstreamTimeoutMs: 2500 }).timeout).toBe(2500);
    expect(proxyReplyOptions({ upstreamTimeoutMs: 2500 }, { timeoutMs: 700 }).timeout).toBe(700);
    expect(proxyReplyOptions({}, { timeoutMs: Infinity }).timeout).toBe(0);
  });

  it('refuses bad values at start-up', () => {
    for (const timeoutMs of [0, -1, Number.NaN, 2 ** 31, '5' as unknown as number]) {
      expect(() => proxyReplyOptions({}, { timeoutMs })).toThrow(TypeError);
    }
    expect(() => proxyReplyOptions({}, { upstream: '' })).toThrow(TypeError);
  });
});
