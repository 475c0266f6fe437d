import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { refusedPort } from '@gateway-errors/fault-servers';
import axios from 'axios';
import ky from 'ky';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import { BadGatewayError, GatewayTimeoutError, ServiceUnavailableError, UpstreamError } from './errors.js';
import { problemResponse } from './problem-response.js';
import { fetchUpstream, withUpstream } from './upstream.js';
import { rejection } from './test-support/rejection.js';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/hang') return; // never answers; the client's deadline ends it
    const status = Number(url.searchParams.get('status') ?? 200);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const retryAfter = url.searchParams.get('retry-after');
    if (retryAfter !== null) headers['retry-after'] = retryAfter;
    res.writeHead(status, headers).end('{"ok":false}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('fetchUpstream', () => {
  it('returns 2xx and 4xx responses for the caller to handle', async () => {
    expect((await fetchUpstream('orders', `${base}/?status=200`)).status).toBe(200);
    const notFound = await fetchUpstream('orders', `${base}/?status=404`);
    expect(notFound.status).toBe(404);
    await notFound.body?.cancel();
  });

  it.each([
    [500, BadGatewayError, 502, 'UPSTREAM_ERROR_STATUS'],
    [502, BadGatewayError, 502, 'UPSTREAM_ERROR_STATUS'],
    [503, ServiceUnavailableError, 503, 'UPSTREAM_UNAVAILABLE'],
    [429, ServiceUnavailableError, 503, 'UPSTREAM_UNAVAILABLE'],
    [504, GatewayTimeoutError, 504, 'UPSTREAM_TIMEOUT'],
  ] as const)('turns an upstream %i into %s', async (upstreamStatus, Class, status, code) => {
    const error = await rejection(fetchUpstream('orders', `${base}/?status=${upstreamStatus}&retry-after=7`));
    expect(Class.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ upstream: 'orders', upstreamStatus });
    expect(classify(error, { method: 'GET' })).toMatchObject({ status, code, upstream: 'orders', upstreamStatus });
    if (status === 503) expect(classify(error).retryAfter).toBe(7);
  });

  it('a deadline gives a 504 naming the upstream', async () => {
    const error = await rejection(fetchUpstream('slow', `${base}/hang`, { timeoutMs: 50 }));
    expect(GatewayTimeoutError.isInstance(error)).toBe(true);
    expect(classify(error, { method: 'POST' })).toMatchObject({ status: 504, upstream: 'slow', retryable: false });
  });

  it('a refused connection gives a retryable 502 naming the upstream', async () => {
    const port = await refusedPort();
    const error = await rejection(fetchUpstream('ledger', `http://127.0.0.1:${port}/`, { method: 'POST' }));
    expect(BadGatewayError.isInstance(error)).toBe(true);
    expect(classify(error, { method: 'POST' })).toMatchObject({ status: 502, code: 'UPSTREAM_UNREACHABLE', retryable: true, upstream: 'ledger' });
  });

  it("passes the caller's own abort on untouched", async () => {
    const controller = new AbortController();
    const pending = fetchUpstream('slow', `${base}/hang`, { signal: controller.signal, timeoutMs: 5_000 });
    controller.abort();
    const error = await rejection(pending);
    expect(UpstreamError.isInstance(error)).toBe(false);
    expect(classify(error).status).toBe(499);
  });
});

describe('withUpstream', () => {
  it("makes axios's cancellation by the deadline a 504, not a caller abort", async () => {
    const error = await rejection(withUpstream('pricing', (signal) => axios.get(`${base}/hang`, { signal }), { timeoutMs: 50 }));
    expect(classify(error)).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT', upstream: 'pricing' });
    // A client that obeys the signal keeps its own error as the cause.
    expect(axios.isCancel((error as Error).cause)).toBe(true);
  });

  it('holds the deadline for a client that takes no signal (pg connecting to a server that never answers)', async () => {
    const silent = createNetServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const client = new pg.Client({ host: '127.0.0.1', port: (silent.address() as AddressInfo).port, user: 'u', database: 'd' });
    client.on('error', () => {});
    try {
      const error = await rejection(withUpstream('ledger', () => client.connect(), { timeoutMs: 100 }));
      expect(GatewayTimeoutError.isInstance(error)).toBe(true);
      expect(classify(error, { method: 'GET' })).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT', upstream: 'ledger' });
    } finally {
      void client.end().catch(() => {});
      silent.close();
      await new Promise((resolve) => setImmediate(resolve));
    }
  });

  it('holds the deadline for a client that loses the signal (ky, once a garbage collection ran during the call)', async () => {
    // ky passes the signal on through copies of a Request; undici follows a copy's signal weakly, so a
    // collection drops the abort and ky waits for ever. The deadline must not depend on it.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const collecting = setInterval(gc, 10);
    // The head and 11 of 100 bytes, then nothing: ky is reading the body when the deadline passes.
    const stalling = createNetServer((socket) => {
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nhello world'));
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(stalling.address() as AddressInfo).port}/search`;
    try {
      const error = await rejection(withUpstream('search', (signal) => ky(url, { signal, retry: 0, timeout: false }).text(), { timeoutMs: 100 }));
      expect(classify(error, { method: 'GET' })).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT', upstream: 'search' });
    } finally {
      clearInterval(collecting);
      stalling.close();
    }
  });

  it("gives a caller's abort back untouched when the client does not settle on it", async () => {
    const caller = new AbortController();
    const pending = withUpstream('ledger', () => new Promise<never>(() => {}), { signal: caller.signal, timeoutMs: 5_000 });
    caller.abort(new Error('client went away'));
    const error = await rejection(pending);
    expect(error).toBe(caller.signal.reason);
  });

  it('tags axios errors with the upstream name and keeps the upstream status', async () => {
    const error = await rejection(withUpstream('pricing', () => axios.get(`${base}/?status=500`)));
    expect(classify(error)).toMatchObject({ status: 502, code: 'UPSTREAM_ERROR_STATUS', upstream: 'pricing', upstreamStatus: 500 });
    const unavailable = await rejection(withUpstream('pricing', () => axios.get(`${base}/?status=503&retry-after=9`)));
    expect(classify(unavailable)).toMatchObject({ status: 503, retryAfter: 9, upstream: 'pricing', upstreamStatus: 503 });
  });

  it('rethrows programming errors unchanged', async () => {
    const bug = new TypeError('x is not a function');
    expect(await rejection(withUpstream('pricing', () => { throw bug; }))).toBe(bug);
  });

  it('an open breaker says when to retry', async () => {
    const open = Object.assign(new Error('Breaker is open'), { code: 'EOPENBREAKER' });
    const error = await rejection(withUpstream('search', () => Promise.reject(open), { breaker: { options: { resetTimeout: 30_000 } } }));
    expect(classify(error)).toMatchObject({ status: 503, retryAfter: 30, upstream: 'search', reachedUpstream: false });
    const cockatiel = await rejection(withUpstream('search', () => Promise.reject(open), { breaker: { halfOpenAfter: 10_001 } }));
    expect(classify(cockatiel).retryAfter).toBe(11);
  });

  it('rejects bad arguments clearly', async () => {
    await expect(withUpstream('', () => 1)).rejects.toThrow(/upstream name/);
    await expect(withUpstream('x', () => 1, { timeoutMs: -5 })).rejects.toThrow(/timeoutMs/);
  });
});

describe('problemResponse', () => {
  it('answers a Web Request with a Web Response', async () => {
    const request = new Request(`${base}/orders?token=x`, { headers: { 'x-request-id': 'req-42' } });
    const response = problemResponse(new GatewayTimeoutError({ upstream: 'pricing' }), request, { onError: false });
    expect(response.status).toBe(504);
    expect(response.headers.get('x-request-id')).toBe('req-42');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toMatchObject({ code: 'UPSTREAM_TIMEOUT', instance: '/orders', requestId: 'req-42' });
  });

  it('has no body for HEAD', async () => {
    const response = problemResponse(new Error('x'), new Request(`${base}/`, { method: 'HEAD' }), { onError: false });
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('');
  });
});
