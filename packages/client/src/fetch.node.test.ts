import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '@gateway-errors-examples/express-gateway';
import { conventionsWithMetrics } from '@gateway-errors-examples/conventions';
import { refusedPort, startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import { fetchWithRetry } from './fetch.js';
import type { RetryEvent } from './fetch.js';

interface Arrival {
  readonly method: string;
  readonly path: string;
  /** The server's clock, in ms. */
  readonly at: number;
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
}

interface Recorder {
  readonly url: string;
  readonly arrivals: Arrival[];
  of(method: string, path: string): Arrival[];
  close(): Promise<void>;
}

type Answer = (arrival: Arrival, res: ServerResponse) => void;

/** A server on 127.0.0.1 that notes every request (method, path, time, body) before `answer` handles it. */
async function record(answer: (arrival: Arrival, res: ServerResponse, req: IncomingMessage) => void): Promise<Recorder> {
  const arrivals: Arrival[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const arrival = { method: req.method ?? '', path: new URL(req.url ?? '/', 'http://x').pathname, at: Date.now(), body: Buffer.concat(chunks).toString(), headers: req.headers };
      arrivals.push(arrival);
      answer(arrival, res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    of: (method, path) => arrivals.filter((arrival) => arrival.method === method && arrival.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function problem(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/problem+json', ...headers }).end(JSON.stringify({ type: 'about:blank', status, ...body }));
}

/** Routes of the tiny server, by path: what each answers. */
const ROUTES: Record<string, Answer> = {
  '/not-retryable': (_a, res) => problem(res, 502, { code: 'UPSTREAM_TLS_FAILURE', retryable: false }),
  '/retryable': (_a, res) => problem(res, 503, { code: 'UPSTREAM_UNAVAILABLE', retryable: true }),
  '/retry-after-2': (_a, res) => problem(res, 503, { code: 'UPSTREAM_UNAVAILABLE', retryable: true }, { 'retry-after': '2' }),
  '/plain-502': (_a, res) => res.writeHead(502, { 'content-type': 'text/plain' }).end('Bad Gateway'),
  '/not-found': (_a, res) => problem(res, 404, { code: 'NOT_FOUND' }),
  // Problem headers, half a body, then silence.
  '/stall': (_a, res) => {
    res.writeHead(503, { 'content-type': 'application/problem+json' });
    res.write('{"retryable":');
  },
  '/ok': (_a, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
};

const FAST = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } as const;

describe('fetchWithRetry against a problem+json server', () => {
  let server: Recorder;
  beforeAll(async () => {
    server = await record((arrival, res) => (ROUTES[arrival.path] ?? ROUTES['/ok']!)(arrival, res));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.arrivals.length = 0;
  });

  it('sends once a POST answered 502 `retryable: false`, even with an idempotency key', async () => {
    const response = await fetchWithRetry(`${server.url}/not-retryable`, { method: 'POST', body: '{}', retry: { ...FAST, idempotencyKey: true } });
    expect(response.status).toBe(502);
    expect(server.of('POST', '/not-retryable')).toHaveLength(1);
  });

  it('retries a POST answered 503 `retryable: true`, and returns the last answer with its body readable', async () => {
    const events: RetryEvent[] = [];
    const response = await fetchWithRetry(`${server.url}/retryable`, { method: 'POST', body: '{"a":1}', retry: { ...FAST, onRetry: (event) => void events.push(event) } });
    expect(server.of('POST', '/retryable')).toHaveLength(3);
    expect(events.map(({ attempt, reason }) => [attempt, reason])).toEqual([
      [1, 'verdict-retryable'],
      [2, 'verdict-retryable'],
    ]);
    expect(events[0]?.problem).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ type: 'about:blank', status: 503, code: 'UPSTREAM_UNAVAILABLE', retryable: true });
  });

  it('waits at least what `Retry-After: 2` says, by onRetry and by the server’s clock', async () => {
    const delays: number[] = [];
    const response = await fetchWithRetry(`${server.url}/retry-after-2`, { retry: { attempts: 2, onRetry: ({ delayMs }) => void delays.push(delayMs) } });
    expect(response.status).toBe(503);
    expect(delays).toEqual([2000]);
    const [first, second] = server.of('GET', '/retry-after-2');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1990);
  });

  it('gives up at once when Retry-After is above the cap', async () => {
    const response = await fetchWithRetry(`${server.url}/retry-after-2`, { retry: { ...FAST, maxRetryAfterMs: 1000 } });
    expect(response.status).toBe(503);
    expect(server.arrivals).toHaveLength(1);
  });

  it('never sends more than `attempts`', async () => {
    for (const attempts of [1, 2, 3]) {
      server.arrivals.length = 0;
      await fetchWithRetry(`${server.url}/retryable`, { retry: { ...FAST, attempts } });
      expect(server.arrivals).toHaveLength(attempts);
    }
  });

  it('starts no attempt past the budget', async () => {
    const budgetMs = 100;
    await fetchWithRetry(`${server.url}/retryable`, { retry: { attempts: 10, baseDelayMs: 60, maxDelayMs: 1000, budgetMs, random: () => 0.999 } });
    const arrivals = server.of('GET', '/retryable');
    expect(arrivals.length).toBeGreaterThanOrEqual(1);
    expect(arrivals.length).toBeLessThan(10);
    expect(arrivals.at(-1)!.at - arrivals[0]!.at).toBeLessThanOrEqual(budgetMs);
  });

  it('returns a 404 at once, body readable', async () => {
    const response = await fetchWithRetry(`${server.url}/not-found`, { retry: FAST });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect(server.arrivals).toHaveLength(1);
  });

  it('stops at once when the signal aborts during a wait: rejects with its reason, sends nothing more', async () => {
    const controller = new AbortController();
    const reason = new Error('the user left');
    const pending = fetchWithRetry(`${server.url}/retryable`, {
      signal: controller.signal,
      retry: { attempts: 3, baseDelayMs: 200, random: () => 0.99, onRetry: () => controller.abort(reason) },
    });
    await expect(pending).rejects.toBe(reason);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.arrivals).toHaveLength(1);
  });

  it('sends nothing when the signal aborted before the call', async () => {
    const reason = new Error('too late');
    await expect(fetchWithRetry(`${server.url}/retryable`, { signal: AbortSignal.abort(reason), retry: FAST })).rejects.toBe(reason);
    expect(server.arrivals).toHaveLength(0);
  });

  it('sends a stream body once', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const response = await fetchWithRetry(`${server.url}/retryable`, { method: 'PUT', body, duplex: 'half', retry: FAST } as RequestInit);
    expect(response.status).toBe(503);
    expect(server.arrivals.map((arrival) => arrival.body)).toEqual(['streamed']);
  });

  it.each([
    ['a string', (): BodyInit => 'name=a&b=c', 'text/plain;charset=UTF-8'],
    ['URLSearchParams', (): BodyInit => new URLSearchParams({ name: 'a', b: 'c' }), 'application/x-www-form-urlencoded;charset=UTF-8'],
    ['a Blob', (): BodyInit => new Blob(['name=a&b=c'], { type: 'application/x-custom' }), 'application/x-custom'],
  ])('re-sends %s body identically', async (_name, make, type) => {
    await fetchWithRetry(`${server.url}/retryable`, { method: 'PUT', body: make(), retry: FAST });
    const arrivals = server.of('PUT', '/retryable');
    expect(arrivals).toHaveLength(3);
    for (const arrival of arrivals) {
      expect(arrival.body).toBe('name=a&b=c');
      expect(arrival.headers['content-type']).toBe(type);
    }
  });

  it('`idempotencyKey: true` adds one key to every attempt and makes a plain POST 502 retryable', async () => {
    const response = await fetchWithRetry(`${server.url}/plain-502`, { method: 'POST', body: 'x', retry: { ...FAST, idempotencyKey: true } });
    expect(response.status).toBe(502);
    expect(await response.text()).toBe('Bad Gateway');
    const keys = server.of('POST', '/plain-502').map((arrival) => arrival.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a caller’s own idempotency key', async () => {
    await fetchWithRetry(`${server.url}/plain-502`, { method: 'POST', body: 'x', headers: { 'Idempotency-Key': 'mine' }, retry: { ...FAST, idempotencyKey: true } });
    expect(server.arrivals.map((arrival) => arrival.headers['idempotency-key'])).toEqual(['mine', 'mine', 'mine']);
  });

  it('sends a plain POST 502 without a verdict or key once', async () => {
    await fetchWithRetry(`${server.url}/plain-502`, { method: 'POST', body: 'x', retry: FAST });
    expect(server.arrivals).toHaveLength(1);
  });

  it('is bounded by the signal when a problem body stalls: rejects with its reason', async () => {
    const error: unknown = await fetchWithRetry(`${server.url}/stall`, { signal: AbortSignal.timeout(150), retry: FAST }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    expect(server.arrivals).toHaveLength(1);
  });

  it('sends a Request that has a body once', async () => {
    const request = new Request(`${server.url}/retryable`, { method: 'PUT', body: 'once' });
    const response = await fetchWithRetry(request, { retry: FAST });
    expect(response.status).toBe(503);
    expect(server.arrivals.map((arrival) => arrival.body)).toEqual(['once']);
  });

  it('retries a Request without a body', async () => {
    await fetchWithRetry(new Request(`${server.url}/retryable`), { retry: FAST });
    expect(server.arrivals).toHaveLength(3);
  });

  it('does the same when onRetry throws', async () => {
    const response = await fetchWithRetry(`${server.url}/retryable`, {
      retry: {
        ...FAST,
        onRetry: () => {
          throw new Error('a broken hook');
        },
      },
    });
    expect(response.status).toBe(503);
    expect(server.arrivals).toHaveLength(3);
  });
});

describe('fetchWithRetry on network errors', () => {
  it('retries a GET to a refused port, then rejects with the last error', async () => {
    const url = `http://127.0.0.1:${await refusedPort()}/orders`;
    const events: RetryEvent[] = [];
    const error: unknown = await fetchWithRetry(url, { retry: { ...FAST, onRetry: (event) => void events.push(event) } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(events.map((event) => event.reason)).toEqual(['network-error', 'network-error']);
    expect(events[1]?.error).not.toBe(error);
  });

  it('does not retry a POST to a refused port', async () => {
    const url = `http://127.0.0.1:${await refusedPort()}/orders`;
    const events: RetryEvent[] = [];
    await expect(fetchWithRetry(url, { method: 'POST', body: 'x', retry: { ...FAST, onRetry: (event) => void events.push(event) } })).rejects.toBeInstanceOf(TypeError);
    expect(events).toEqual([]);
  });
});

describe('fetchWithRetry through the Express example gateway', () => {
  let faults: Faults;
  let gateway: Recorder;
  beforeAll(async () => {
    faults = await startFaults();
    const { conventions, registry } = conventionsWithMetrics({ onError: false });
    const app = createApp({ conventions, registry, upstreams: { orders: faults.refused, inventory: faults.status, payments: faults.tls }, timeoutMs: 2000 });
    gateway = await record((_arrival, res, req) => app(req, res));
  });
  afterAll(async () => {
    await gateway.close();
    await faults.close();
  });
  beforeEach(() => {
    gateway.arrivals.length = 0;
  });

  it('does not retry a GET answered 502 `retryable: false` (a bad certificate)', async () => {
    const events: RetryEvent[] = [];
    const response = await fetchWithRetry(`${gateway.url}/payments/charges`, { retry: { ...FAST, onRetry: (event) => void events.push(event) } });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ code: 'UPSTREAM_TLS_FAILURE', retryable: false });
    expect(gateway.of('GET', '/payments/charges')).toHaveLength(1);
    expect(events).toEqual([]);
  });

  it('sends once a POST answered 502 `retryable: false`', async () => {
    const response = await fetchWithRetry(`${gateway.url}/payments/charges`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, retry: FAST });
    expect(response.status).toBe(502);
    expect(gateway.of('POST', '/payments/charges')).toHaveLength(1);
  });

  it('retries a GET answered 502 `retryable: true` (connection refused)', async () => {
    const events: RetryEvent[] = [];
    const response = await fetchWithRetry(`${gateway.url}/orders/42`, { retry: { ...FAST, onRetry: (event) => void events.push(event) } });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', retryable: true });
    expect(gateway.of('GET', '/orders/42')).toHaveLength(3);
    expect(events.map((event) => event.problem?.code)).toEqual(['UPSTREAM_UNREACHABLE', 'UPSTREAM_UNREACHABLE']);
  });

  it('gives up at once on a Retry-After above the cap (the upstream’s 503 asks for 7 s)', async () => {
    const response = await fetchWithRetry(`${gateway.url}/inventory/status/503`, { retry: { ...FAST, maxRetryAfterMs: 5000 } });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(5);
    expect(gateway.arrivals).toHaveLength(1);
  });
});
