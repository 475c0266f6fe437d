import { createServer, request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, RequestOptions, Server, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { defineConventions, forwardHeaders, GatewayTimeoutError, toLogEntry } from '@gateway-errors/core';
import type { Conventions, ErrorReport } from '@gateway-errors/core';
import { fetchUpstream, withUpstream } from '@gateway-errors/core/upstream';
import { blackhole, startFaults } from '@gateway-errors/fault-servers';
import type { Blackhole, Faults } from '@gateway-errors/fault-servers';
import express5 from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import express4 from 'express4';
import * as hpm3 from 'hpm3';
import * as hpm4 from 'hpm4';
import { pino } from 'pino';
import { pinoHttp } from 'pino-http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { gatewayErrors, proxyProblems, requestId } from './index.js';
import type { ProxyProblems, ProxyProblemsOptions } from './index.js';

/** The deadline where a test waits for it: short, so a hang costs little. */
const DEADLINE_MS = 300;
/** The deadline everywhere else: long, so a slow machine never turns a quick failure into a timeout. */
const SLACK_MS = 4000;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------------------
// Upstreams
// ---------------------------------------------------------------------------

interface Upstream {
  readonly url: string;
  close(): Promise<void>;
}

/** Closes a server together with every connection it holds. */
function closing(server: Server | ReturnType<typeof createNetServer>, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

async function listening(server: Server | ReturnType<typeof createNetServer>, scheme = 'http'): Promise<Upstream> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return { url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`, close: closing(server, sockets) };
}

/**
 * Sends a 200 head with its own request ID and 5 of 100 announced bytes, then waits: `finish()` resets
 * (RST) or closes (FIN) every connection it holds, once the client has seen those bytes.
 */
async function afterHeadServer(ending: 'reset' | 'fin'): Promise<Upstream & { finish(): void }> {
  const waiting = new Set<Socket>();
  const server = createNetServer((socket) => {
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Request-Id: up-7\r\nContent-Length: 100\r\n\r\nhello');
      waiting.add(socket);
    });
  });
  const finish = (): void => {
    for (const socket of waiting) {
      if (ending === 'reset') socket.resetAndDestroy();
      else socket.end();
    }
    waiting.clear();
  };
  return { ...(await listening(server)), finish };
}

/** Records the headers of every request; `/status/503` answers 503 with `Retry-After: 7` and its own request ID. */
async function captureServer(): Promise<Upstream & { readonly seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    if (req.url === '/status/503') {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '7', 'x-request-id': 'up-503' }).end('{"status":503}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  return { ...(await listening(server)), seen };
}

// ---------------------------------------------------------------------------
// A client that tells a complete answer from a broken one
// ---------------------------------------------------------------------------

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body arrived whole. */
  readonly complete: boolean;
}

/** A GET; `onData` is called with the first bytes of the body. */
function get(url: string, headers: Record<string, string> = {}, onData?: () => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { 'x-request-id': 'req-1', ...headers }, agent: false }, (res) => {
      let body = '';
      let settled = false;
      const done = (complete: boolean): void => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, complete });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        onData?.();
      });
      res.on('end', () => done(res.complete));
      res.on('error', () => done(false));
      res.on('close', () => done(res.complete));
    });
    // Bounded: a response that never ends fails the test instead of hanging it.
    req.setTimeout(5000, () => req.destroy(new Error('no complete answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

/** What the upstream call of a route hands back: the head, with the body still to come. */
function callUpstream(url: string, signal: AbortSignal, headers: Readonly<Record<string, string>>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options: RequestOptions = { signal, headers: { ...headers }, agent: false };
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, options, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** The route equivalent of the proxy: the same upstream called through `withUpstream`, streamed on, errors to `gatewayErrors()`. */
function throughRoute(url: string, timeoutMs = SLACK_MS): RequestHandler {
  return (_req, res, next) => {
    withUpstream('orders', (signal, { headers }) => callUpstream(url, signal, headers), { timeoutMs }).then((upstream) => {
      upstream.on('error', next);
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    }, next);
  };
}

// ---------------------------------------------------------------------------
// The matrix: http-proxy-middleware 3 and 4, Express 5 and 4
// ---------------------------------------------------------------------------

interface ProxyOptions {
  readonly target: string;
  readonly problems: ProxyProblems<object>;
  readonly ws?: boolean;
  readonly proxyTimeout?: number;
  readonly pathRewrite?: Record<string, string>;
}

type Proxy = RequestHandler & { upgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void };

// Each major is handed the spread exactly as a user writes it, so both majors' option types are checked.
const proxies = [
  [
    'http-proxy-middleware@3',
    ({ target, problems, ...rest }: ProxyOptions): Proxy =>
      hpm3.createProxyMiddleware({ target, secure: true, ...rest, ...problems }) as unknown as Proxy,
  ],
  [
    'http-proxy-middleware@4',
    ({ target, problems, ...rest }: ProxyOptions): Proxy =>
      hpm4.createProxyMiddleware({ target, secure: true, ...rest, ...problems }) as unknown as Proxy,
  ],
] as const;

const expresses = [
  ['express@5', express5],
  ['express@4', express4 as unknown as typeof express5],
] as const;

const matrix = proxies.flatMap(([proxyName, createProxy]) =>
  expresses.map(([expressName, express]) => [`${proxyName} on ${expressName}`, proxyName, createProxy, express] as const),
);

let faults: Faults;
let hole: Blackhole | undefined;
let holeError: unknown;
let resetAfterHead: Awaited<ReturnType<typeof afterHeadServer>>;
let finAfterHead: Awaited<ReturnType<typeof afterHeadServer>>;
let capture: Awaited<ReturnType<typeof captureServer>>;

beforeAll(async () => {
  [faults, resetAfterHead, finAfterHead, capture] = await Promise.all([startFaults(), afterHeadServer('reset'), afterHeadServer('fin'), captureServer()]);
  try {
    hole = await blackhole();
  } catch (error) {
    holeError = error;
  }
});

afterAll(async () => {
  await Promise.all([faults.close(), resetAfterHead.close(), finAfterHead.close(), capture.close(), hole?.close()]);
});

afterEach(() => {
  vi.restoreAllMocks();
  capture.seen.length = 0;
});

interface Gateway {
  readonly url: string;
  readonly reports: ErrorReport[];
  /** Errors that reached an error handler after `gatewayErrors()`. */
  readonly handedOn: unknown[];
  readonly server: Server;
  readonly conventions: Conventions;
}

const gateways: Server[] = [];
afterEach(async () => {
  await Promise.all(
    gateways.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

describe.each(matrix)('%s', (_name, proxyName, createProxy, express) => {
  interface Setup {
    readonly target: string;
    readonly route?: RequestHandler;
    readonly problems?: ProxyProblemsOptions<object>;
    readonly ws?: boolean;
    readonly proxyTimeout?: number;
    readonly pathRewrite?: Record<string, string>;
  }

  async function gateway({ target, route, problems, ...rest }: Setup): Promise<Gateway & { proxy: Proxy }> {
    const reports: ErrorReport[] = [];
    const handedOn: unknown[] = [];
    const conventions = defineConventions({ onError: (report) => void reports.push(report) });
    const app = express();
    // Express's final handler prints the raw stack of an error it is given, unless the env is `test`.
    app.set('env', 'production');
    app.use(requestId(conventions));
    const proxy = createProxy({ target, problems: proxyProblems(conventions, { upstream: 'orders', timeoutMs: SLACK_MS, ...problems }), ...rest });
    app.use('/proxy', proxy);
    if (route !== undefined) app.get('/route', route);
    app.use(gatewayErrors(conventions));
    app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
      handedOn.push(error);
      next(error);
    });
    const server = await new Promise<Server>((resolve) => {
      const listener: Server = app.listen(0, '127.0.0.1', () => resolve(listener));
    });
    gateways.push(server);
    server.on('upgrade', proxy.upgrade);
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, reports, handedOn, server, conventions, proxy };
  }

  /** Same status, code, headers and body (but `instance`, the path) as the route that threw the same failure. */
  function expectSameAnswer(proxied: Answer, routed: Answer): void {
    expect(proxied.status).toBe(routed.status);
    for (const header of ['content-type', 'cache-control', 'proxy-status', 'retry-after', 'x-content-type-options', 'x-request-id']) {
      expect(proxied.headers[header], header).toBe(routed.headers[header]);
    }
    const { instance: proxiedInstance, ...proxiedBody } = JSON.parse(proxied.body) as Record<string, unknown>;
    const { instance: routedInstance, ...routedBody } = JSON.parse(routed.body) as Record<string, unknown>;
    expect(proxiedInstance).toBe('/proxy/orders/7');
    expect(routedInstance).toBe('/route');
    expect(proxiedBody).toEqual(routedBody);
  }

  const failures = [
    { fault: 'a refused connection', url: () => faults.refused, status: 502, code: 'UPSTREAM_UNREACHABLE', proxyError: 'connection_refused' },
    { fault: 'a reset before the head', url: () => faults.reset, status: 502, code: 'UPSTREAM_CONNECTION_LOST', proxyError: 'connection_terminated' },
    { fault: 'a close before the head', url: () => faults.fin, status: 502, code: 'UPSTREAM_CONNECTION_LOST', proxyError: 'connection_terminated' },
    { fault: 'garbage', url: () => faults.garbage, status: 502, code: 'UPSTREAM_BAD_RESPONSE', proxyError: 'http_protocol_error' },
    { fault: 'a self-signed certificate', url: () => faults.tls, status: 502, code: 'UPSTREAM_TLS_FAILURE', proxyError: 'tls_certificate_error' },
    {
      fault: 'a hang past the deadline',
      url: () => faults.hang,
      status: 504,
      code: 'UPSTREAM_TIMEOUT',
      proxyError: 'http_response_timeout',
      timeoutMs: DEADLINE_MS,
    },
  ] as const;

  it.each(failures)('answers $fault like a route that threw it: $status $code', async (failure) => {
    const { url, status, code, proxyError } = failure;
    const timeoutMs = 'timeoutMs' in failure ? failure.timeoutMs : SLACK_MS;
    const target = url();
    const { url: base, reports, handedOn } = await gateway({ target, route: throughRoute(`${target}/orders/7`, timeoutMs), problems: { timeoutMs } });
    const proxied = await get(`${base}/proxy/orders/7`);
    const routed = await get(`${base}/route`);
    expect(proxied.status).toBe(status);
    expect(JSON.parse(proxied.body)).toMatchObject({ code, requestId: 'req-1' });
    expect(proxied.headers['proxy-status']).toContain(`error=${proxyError}`);
    expectSameAnswer(proxied, routed);
    // Each failure reported once, with the upstream's name.
    expect(reports.map((report) => [report.classification.code, report.classification.upstream])).toEqual([
      [code, 'orders'],
      [code, 'orders'],
    ]);
    expect(handedOn).toEqual([]);
  });

  it('answers a connect timeout with 504 connection_timeout', async (context) => {
    if (hole === undefined) {
      // The blackhole needs a kernel that drops SYNs once a listener's accept queue is full.
      context.skip(`no connect timeout on this machine: ${String(holeError)}`);
      return;
    }
    const connectTimeout = Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT', syscall: 'connect' });
    const { url: base, reports } = await gateway({
      target: hole.url,
      problems: { timeoutMs: DEADLINE_MS },
      route: () => {
        throw new GatewayTimeoutError({ upstream: 'orders', cause: connectTimeout });
      },
    });
    const proxied = await get(`${base}/proxy/orders/7`);
    expect(proxied.status).toBe(504);
    expect(JSON.parse(proxied.body)).toMatchObject({ code: 'UPSTREAM_TIMEOUT', retryable: true });
    expect(proxied.headers['proxy-status']).toContain('error=connection_timeout');
    expectSameAnswer(proxied, await get(`${base}/route`));
    expect(reports[0]!.classification.reachedUpstream).toBe(false);
  });

  it("tells http-proxy-middleware's own proxyTimeout from a reset: 504, not 502", async () => {
    const { url: base } = await gateway({ target: faults.hang, problems: { timeoutMs: Infinity }, proxyTimeout: 100 });
    const proxied = await get(`${base}/proxy/orders/7`);
    expect(proxied.status).toBe(504);
    expect(JSON.parse(proxied.body)).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(proxied.headers['proxy-status']).toContain('error=http_response_timeout');
  });

  it.each([
    ['a reset', () => resetAfterHead],
    ['a close', () => finAfterHead],
  ])('cuts the response off on %s after the head, appends nothing, logs the upstream request ID', async (_fault, upstream) => {
    const { url: base, reports } = await gateway({ target: upstream().url, route: throughRoute(`${upstream().url}/orders/7`) });
    // The upstream fails once the client has the head and the first bytes.
    const proxied = await get(`${base}/proxy/orders/7`, {}, () => upstream().finish());
    const routed = await get(`${base}/route`, {}, () => upstream().finish());
    for (const answer of [proxied, routed]) {
      expect(answer.status).toBe(200);
      expect(answer.complete).toBe(false);
      expect(answer.body).toBe('hello');
    }
    expect(reports.map((report) => report.classification.code)).toEqual(['UPSTREAM_CONNECTION_LOST', 'UPSTREAM_CONNECTION_LOST']);
    // Where the log record gets the upstream's own request ID: `err.upstream.requestId`.
    expect(toLogEntry(reports[0]!).err.upstream?.requestId).toBe('up-7');
    expect(reports[0]!.error).toMatchObject({ upstream: 'orders', upstreamRequestId: 'up-7' });
  });

  it('writes the record with the upstream request ID through pino-http req.log', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const app = express();
    app.use(requestId());
    app.use(pinoHttp({ logger: pino({ level: 'error' }, sink), genReqId: (req) => (req as Request & { id: string }).id, autoLogging: false }));
    app.use('/proxy', createProxy({ target: resetAfterHead.url, problems: proxyProblems({}, { upstream: 'orders' }) }));
    const server = await new Promise<Server>((resolve) => {
      const listener: Server = app.listen(0, '127.0.0.1', () => resolve(listener));
    });
    gateways.push(server);
    const answer = await get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/proxy/orders/7`, { 'x-request-id': 'req-pino' }, () =>
      resetAfterHead.finish(),
    );
    expect(answer.complete).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ requestId: 'req-pino', code: 'UPSTREAM_CONNECTION_LOST', err: { upstream: { requestId: 'up-7' } } });
  });

  it("writes exactly one body, never the proxy's error page, and echoes neither Host, path nor target", async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { url: base, reports, handedOn } = await gateway({ target: `${faults.refused}/internal/v2`, pathRewrite: { '^/': '/secret-path/' } });
    const proxied = await get(`${base}/proxy/orders/7`, { host: 'gateway.example.com' });
    expect(proxied.status).toBe(502);
    expect(proxied.complete).toBe(true);
    expect(Number(proxied.headers['content-length'])).toBe(Buffer.byteLength(proxied.body));
    expect(() => JSON.parse(proxied.body)).not.toThrow();
    expect(proxied.body).not.toMatch(/Error occurred|gateway\.example\.com|127\.0\.0\.1|internal|secret-path/);
    expect(proxied.body).not.toContain(new URL(faults.refused).port);
    expect(reports).toHaveLength(1);
    expect(handedOn).toEqual([]);
    expect(printed).not.toHaveBeenCalled();
  });

  it.runIf(proxyName === 'http-proxy-middleware@4')(
    "keeps v4's next(err) after an answered failure from a second write or a stack print",
    async () => {
      const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
      const { url: base, reports, handedOn } = await gateway({
        target: `${capture.url}/status/200`,
        problems: {
          on: {
            // A response stream that fails: v4's `web()` rejects, and v4 would emit `error`, then call `next(err)`.
            proxyReq: (_proxyReq: unknown, _req: unknown, res: ServerResponse) => void res.emit('error', new Error('response stream failed')),
          },
        },
      });
      const answer = await get(`${base}/proxy/orders/7`);
      expect(answer.status).toBe(500);
      expect(answer.complete).toBe(true);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'INTERNAL_ERROR', requestId: 'req-1' });
      expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
      expect(reports).toHaveLength(1);
      expect(handedOn).toEqual([]);
      expect(printed).not.toHaveBeenCalled();
    },
  );

  it("passes an upstream 503 with Retry-After: 7 through with upstreamErrors: 'pass'", async () => {
    const { url: base, reports } = await gateway({ target: capture.url, problems: { upstreamErrors: 'pass' } });
    const answer = await get(`${base}/proxy/status/503`);
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('7');
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.body).toBe('{"status":503}');
    expect(reports).toEqual([]);
  });

  it("answers an upstream 503 as fetchUpstream's problem by default", async () => {
    const { url: base, reports } = await gateway({
      target: capture.url,
      route: async (_req, _res, next) => {
        try {
          await fetchUpstream('orders', `${capture.url}/status/503`);
        } catch (error) {
          next(error);
        }
      },
    });
    const proxied = await get(`${base}/proxy/status/503`);
    expect(proxied.status).toBe(503);
    expect(proxied.headers['retry-after']).toBe('7');
    expect(JSON.parse(proxied.body)).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryAfter: 7 });
    expect(proxied.headers['proxy-status']).toContain('received-status=503');
    const routed = await get(`${base}/route`);
    expect(proxied.status).toBe(routed.status);
    for (const header of ['content-type', 'cache-control', 'proxy-status', 'retry-after']) expect(proxied.headers[header]).toBe(routed.headers[header]);
    const { instance: _p, ...proxiedBody } = JSON.parse(proxied.body) as Record<string, unknown>;
    const { instance: _r, ...routedBody } = JSON.parse(routed.body) as Record<string, unknown>;
    expect(proxiedBody).toEqual(routedBody);
    expect(reports[0]!.error).toMatchObject({ upstream: 'orders', upstreamStatus: 503, upstreamRequestId: 'up-503' });
    expect(toLogEntry(reports[0]!).err.upstream?.requestId).toBe('up-503');
  });

  it('forwards the request ID and traceparent to the upstream', async () => {
    const { url: base } = await gateway({ target: capture.url });
    const valid = await get(`${base}/proxy/ok`, { 'x-request-id': 'abc-123', traceparent: TRACEPARENT });
    expect(valid.status).toBe(200);
    expect(capture.seen[0]).toMatchObject({ 'x-request-id': 'abc-123', traceparent: TRACEPARENT });
    const hostile = await get(`${base}/proxy/ok`, { 'x-request-id': 'a b', traceparent: 'not-a-traceparent', tracestate: 'k=v' });
    expect(hostile.headers['x-request-id']).toMatch(UUID);
    expect(capture.seen[1]!['x-request-id']).toBe(hostile.headers['x-request-id']);
    expect(capture.seen[1]).not.toHaveProperty('traceparent');
    expect(capture.seen[1]).not.toHaveProperty('tracestate');
  });

  it('makes the request hop current for the rest of the request (requestId())', async () => {
    const app = express();
    app.use(requestId());
    app.get('/hop', (_req, res) => void res.json(forwardHeaders()));
    const server = await new Promise<Server>((resolve) => {
      const listener: Server = app.listen(0, '127.0.0.1', () => resolve(listener));
    });
    gateways.push(server);
    const answer = await get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hop`, { 'x-request-id': 'hop-1', traceparent: TRACEPARENT });
    expect(JSON.parse(answer.body)).toEqual({ 'x-request-id': 'hop-1', traceparent: TRACEPARENT });
  });

  it('destroys the socket of a failed WebSocket upgrade and reports the failure', async () => {
    const { url: base, reports } = await gateway({ target: faults.refused, ws: true });
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest(`${base}/proxy/socket`, {
        agent: false,
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' },
      });
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.on('upgrade', () => resolve('upgraded'));
      req.on('response', (res) => resolve(`response ${res.statusCode}`));
      req.on('error', (error) => resolve(error.message));
      req.end();
    });
    expect(outcome).toBe('socket hang up');
    expect(reports.map((report) => report.classification.code)).toEqual(['UPSTREAM_UNREACHABLE']);
  });
});

describe.each(proxies)('%s on a bare node:http server', (_name, createProxy) => {
  it('answers with the problem and forwards the request ID it resolved', async () => {
    const reports: ErrorReport[] = [];
    const conventions = defineConventions({ onError: (report) => void reports.push(report) });
    const handedOn: unknown[] = [];
    const serve = (target: string): Promise<Server> => {
      const proxy = createProxy({ target, problems: proxyProblems(conventions, { upstream: 'orders' }) });
      const server = createServer((req, res) => {
        void proxy(req as Request, res as Response, (error?: unknown) => {
          handedOn.push(error);
          res.statusCode = 404;
          res.end();
        });
      });
      return new Promise<Server>((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
    };
    const [refusing, capturing] = await Promise.all([serve(faults.refused), serve(capture.url)]);
    gateways.push(refusing, capturing);
    const failed = await get(`http://127.0.0.1:${(refusing.address() as AddressInfo).port}/orders/7`, { 'x-request-id': 'bare-1' });
    expect(failed.status).toBe(502);
    expect(failed.headers['x-request-id']).toBe('bare-1');
    expect(JSON.parse(failed.body)).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', requestId: 'bare-1', instance: '/orders/7' });
    await get(`http://127.0.0.1:${(capturing.address() as AddressInfo).port}/ok`, { 'x-request-id': 'x y' });
    expect(capture.seen[0]!['x-request-id']).toMatch(UUID);
    expect(reports).toHaveLength(1);
    expect(handedOn).toEqual([]);
  });
});

describe('proxyProblems() options', () => {
  it('rejects options that cannot work, at start-up', () => {
    expect(() => proxyProblems({}, { timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => proxyProblems({}, { timeoutMs: Number.NaN })).toThrow(/timeoutMs/);
    expect(() => proxyProblems({}, { upstream: 'http://10.0.0.1:8080/\n' })).toThrow(/upstream/);
    expect(() => proxyProblems({}, { upstreamErrors: 'drop' as 'pass' })).toThrow(/upstreamErrors/);
  });

  it('keeps your on handlers and plugins, and fails fast when an `on` option replaced its own', () => {
    const proxyReq = (): void => {};
    const plugin = (): void => {};
    const problems = proxyProblems({}, { on: { proxyReq }, plugins: [plugin] });
    expect(problems.on.proxyReq).toBe(proxyReq);
    expect(typeof problems.on.error).toBe('function');
    expect(problems.plugins[0]).toBe(plugin);
    expect(problems.plugins).toHaveLength(2);
    expect(() => hpm4.createProxyMiddleware({ target: 'http://127.0.0.1:1', ...problems, on: { proxyReq } })).toThrow(/own error page/);
    expect(() => hpm3.createProxyMiddleware({ target: 'http://127.0.0.1:1', ...problems, on: { proxyReq } })).toThrow(/own error page/);
    expect(() => hpm4.createProxyMiddleware({ target: 'http://127.0.0.1:1', ...problems, ejectPlugins: true })).not.toThrow();
  });

  it("fits both majors' option types with Express's request and response types", () => {
    const on = { proxyReq: (proxyReq: ClientRequest) => void proxyReq.setHeader('x-tenant', 'a') };
    const v3 = hpm3.createProxyMiddleware<Request, Response>({ target: 'http://127.0.0.1:1', ...proxyProblems({}, { upstream: 'orders', on }) });
    const v4 = hpm4.createProxyMiddleware<Request, Response>({ target: 'http://127.0.0.1:1', ...proxyProblems({}, { upstream: 'orders', on }) });
    expect([typeof v3, typeof v4]).toEqual(['function', 'function']);
  });
});
