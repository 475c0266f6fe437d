import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import axiosRetry from 'axios-retry';
import got from 'got';
import ky from 'ky';
import { Agent, RetryAgent, interceptors, request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '@gateway-errors-examples/express-gateway';
import { conventionsWithMetrics } from '@gateway-errors-examples/conventions';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import type { RetryOptions } from './decision.js';
import { axiosRetryOptions, gotRetry, kyRetry, undiciRetry } from './integrations.js';

/** What each route answers: a problem with a verdict, and a `Retry-After` for some. */
const ROUTES: Record<string, { status: number; retryable: boolean; retryAfter?: string }> = {
  'no-502': { status: 502, retryable: false },
  'yes-502': { status: 502, retryable: true },
  'yes-503-after-1': { status: 503, retryable: true, retryAfter: '1' },
  'yes-503-after-120': { status: 503, retryable: true, retryAfter: '120' },
  'abort-503': { status: 503, retryable: true, retryAfter: '1' },
};

/** A problem longer than the client reads (`MAX_PROBLEM_BYTES`), answered on paths ending in `/large-503`. */
const LARGE_PROBLEM = JSON.stringify({ type: 'about:blank', status: 503, retryable: true, detail: 'x'.repeat(70_000) });

/** Arrival times per `METHOD /path`, taken by the server. */
const arrivals = new Map<string, number[]>();
/** Called when a request arrives at its path: a case aborts its request there. */
const onArrival = new Map<string, () => void>();
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const key = `${req.method ?? ''} ${url.pathname}`;
    arrivals.set(key, [...(arrivals.get(key) ?? []), Date.now()]);
    if (url.pathname.endsWith('/reset')) {
      // No answer at all: the connection drops, a network error for the client.
      req.socket.destroy();
      return;
    }
    req.resume();
    req.on('end', () => {
      if (url.pathname.endsWith('/large-503')) {
        res.writeHead(503, { 'content-type': 'application/problem+json' }).end(LARGE_PROBLEM);
        return;
      }
      const route = ROUTES[url.pathname.split('/').pop() ?? ''];
      if (route === undefined) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      onArrival.get(key)?.();
      const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
      if (route.retryAfter !== undefined) headers['retry-after'] = route.retryAfter;
      res.writeHead(route.status, headers).end(JSON.stringify({ type: 'about:blank', status: route.status, code: 'UPSTREAM', retryable: route.retryable }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

type Send = (url: string, method: string, options: RetryOptions & { signal: AbortSignal }) => Promise<void>;

const nodeMajor = Number(process.versions.node.split('.')[0]);

/**
 * Each client, set up as its recipe says; a failure is swallowed: the server's count is what is
 * checked. `knowsFailedRequest: false`: the client's network error does not say which request
 * failed (ky 1), so it is not retried.
 */
const CLIENTS: { name: string; minNode: number; knowsFailedRequest?: false; send: () => Promise<Send> }[] = [
  {
    name: 'ky 1',
    knowsFailedRequest: false,
    minNode: 18,
    send: async () => (url, method, options) => ky(url, { method, body: method === 'POST' ? '{}' : null, retry: kyRetry(options), timeout: false, signal: options.signal }).then(ignore, ignore),
  },
  {
    name: 'ky 2',
    minNode: 22,
    send: async () => {
      const { default: ky2 } = await import('ky2');
      return (url, method, options) => ky2(url, { method, body: method === 'POST' ? '{}' : null, retry: kyRetry(options), timeout: false, signal: options.signal }).then(ignore, ignore);
    },
  },
  {
    name: 'got 14',
    minNode: 20,
    send: async () => (url, method, options) => got(url, { method: method as 'GET', body: method === 'POST' ? '{}' : undefined, retry: gotRetry(options), signal: options.signal }).then(ignore, ignore),
  },
  {
    name: 'got 16',
    minNode: 22,
    send: async () => {
      const { default: got16 } = await import('got16');
      return (url, method, options) => got16(url, { method: method as 'GET', body: method === 'POST' ? '{}' : undefined, retry: gotRetry(options), signal: options.signal }).then(ignore, ignore);
    },
  },
  {
    name: 'axios + axios-retry',
    minNode: 18,
    send: async () => (url, method, options) => {
      const api = axios.create();
      axiosRetry(api, axiosRetryOptions(options));
      return api.request({ url, method, data: method === 'POST' ? '{}' : undefined, signal: options.signal }).then(ignore, ignore);
    },
  },
  {
    name: 'undici RetryAgent',
    minNode: 20,
    send: async () => async (url, method, options) => {
      const agent = new Agent();
      const retry = undiciRetry(options);
      const dispatcher = new RetryAgent(agent.compose(retry.readProblem), retry);
      try {
        const { body } = await request(url, { method: method as 'GET', body: method === 'POST' ? '{}' : null, dispatcher, signal: options.signal });
        await body.dump();
      } catch {
        // The count is what is checked.
      } finally {
        await agent.close();
      }
    },
  },
];

const QUICK: RetryOptions = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 5_000 };

/**
 * The conformance cases: what the server's verdict makes each client do; `sentUnknown`, how often
 * a client that cannot tell which request got no answer sends it, when that differs.
 */
const CASES: { name: string; method: string; route: string; options: RetryOptions; sent: number; sentUnknown?: number; minGapMs?: number; abortOnArrival?: true }[] = [
  { name: 'POST 502 retryable:false is sent once', method: 'POST', route: 'no-502', options: QUICK, sent: 1 },
  { name: 'POST 503 retryable:true is retried after Retry-After, up to attempts', method: 'POST', route: 'yes-503-after-1', options: { ...QUICK, attempts: 2 }, sent: 2, minGapMs: 1_000 },
  { name: 'GET 502 retryable:false is not retried', method: 'GET', route: 'no-502', options: QUICK, sent: 1 },
  { name: 'GET 502 retryable:true is retried up to attempts', method: 'GET', route: 'yes-502', options: QUICK, sent: 3 },
  { name: 'a Retry-After above maxRetryAfterMs gives up', method: 'GET', route: 'yes-503-after-120', options: QUICK, sent: 1 },
  { name: 'attempts is never exceeded', method: 'PUT', route: 'yes-502', options: { ...QUICK, attempts: 2 }, sent: 2 },
  { name: 'GET without an answer is retried', method: 'GET', route: 'reset', options: QUICK, sent: 3, sentUnknown: 1 },
  { name: 'POST without an answer is not retried', method: 'POST', route: 'reset', options: QUICK, sent: 1 },
  { name: 'a signal fired during the wait stops the retries', method: 'GET', route: 'abort-503', options: QUICK, sent: 1, abortOnArrival: true },
];

for (const client of CLIENTS) {
  describe.runIf(nodeMajor >= client.minNode)(client.name, () => {
    let send: Send;
    beforeAll(async () => {
      send = await client.send();
    });

    it.each(CASES)('$name', async ({ method, route, options, sent, sentUnknown = sent, minGapMs, abortOnArrival }) => {
      const path = `/${encodeURIComponent(client.name)}/${method}/${route}`;
      const controller = new AbortController();
      // Abort while the client waits out the Retry-After (1 s) of the first answer.
      if (abortOnArrival) onArrival.set(`${method} ${path}`, () => setTimeout(() => controller.abort(), 100));
      await send(origin + path, method, { ...options, signal: controller.signal });
      // The server's count, a moment after the client gave up: a late retry would show.
      if (abortOnArrival) await new Promise((resolve) => setTimeout(resolve, 1_200));
      const times = arrivals.get(`${method} ${path}`) ?? [];
      expect(times).toHaveLength(client.knowsFailedRequest === false ? sentUnknown : sent);
      if (minGapMs !== undefined) {
        for (let index = 1; index < times.length; index++) expect(times[index]! - times[index - 1]!).toBeGreaterThanOrEqual(minGapMs);
      }
    });
  });
}

function ignore(): void {}

describe('ky: concurrent requests sharing one kyRetry', () => {
  const kys: { name: string; minNode: number; load: () => Promise<typeof ky> }[] = [
    { name: 'ky 1', minNode: 18, load: async () => ky },
    { name: 'ky 2', minNode: 22, load: async () => (await import('ky2')).default as unknown as typeof ky },
  ];
  for (const { name, minNode, load } of kys) {
    it.runIf(nodeMajor >= minNode)(`${name}: each request waits its own decision's delay`, async () => {
      const client = await load();
      // No backoff wait at all for the 502s: only a mixed-up delay could make a 503 retry early.
      const retry = kyRetry({ attempts: 2, baseDelayMs: 0, maxRetryAfterMs: 5_000, random: () => 0 });
      const paths = [0, 1, 2, 3].map((index) => `/concurrent/${encodeURIComponent(name)}/${index}/${index % 2 === 0 ? 'yes-503-after-1' : 'yes-502'}`);
      await Promise.all(paths.map((path) => client(origin + path, { retry, timeout: false }).then(ignore, ignore)));
      for (const path of paths) {
        const times = arrivals.get(`GET ${path}`) ?? [];
        expect(times).toHaveLength(2);
        if (path.endsWith('after-1')) expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1_000);
      }
    });
  }
});

describe('undici: the answer the caller gets', () => {
  async function send(path: string, method: 'GET' | 'POST', options: RetryOptions = QUICK): Promise<{ statusCode: number; text: string }> {
    const agent = new Agent();
    const retry = undiciRetry(options);
    try {
      const { statusCode, body } = await request(origin + path, { method, body: method === 'POST' ? '{}' : null, dispatcher: new RetryAgent(agent.compose(retry.readProblem), retry) });
      return { statusCode, text: await body.text() };
    } finally {
      await agent.close();
    }
  }

  it('keeps the body of an answer that is not retried', async () => {
    const { statusCode, text } = await send('/undici-body/no-502', 'GET');
    expect(statusCode).toBe(502);
    expect(JSON.parse(text)).toMatchObject({ code: 'UPSTREAM', retryable: false });
    expect(arrivals.get('GET /undici-body/no-502')).toHaveLength(1);
  });

  it('keeps the body of the last answer after retries', async () => {
    const { statusCode, text } = await send('/undici-body/yes-502', 'POST');
    expect(statusCode).toBe(502);
    expect(JSON.parse(text)).toMatchObject({ code: 'UPSTREAM', retryable: true });
    expect(arrivals.get('POST /undici-body/yes-502')).toHaveLength(3);
  });

  it('hands a problem above the cap on unread and whole: the method decides', async () => {
    const get = await send('/undici-body/get/large-503', 'GET');
    expect(get.text).toBe(LARGE_PROBLEM);
    expect(arrivals.get('GET /undici-body/get/large-503')).toHaveLength(3);
    const post = await send('/undici-body/post/large-503', 'POST');
    expect(post.text).toBe(LARGE_PROBLEM);
    expect(arrivals.get('POST /undici-body/post/large-503')).toHaveLength(1);
  });

  it('reads the problem under `interceptors.retry` too', async () => {
    const agent = new Agent();
    const retry = undiciRetry(QUICK);
    try {
      const dispatcher = agent.compose(retry.readProblem, interceptors.retry(retry));
      const get = await request(`${origin}/undici-interceptor/no-502`, { dispatcher });
      expect(JSON.parse(await get.body.text())).toMatchObject({ retryable: false });
      const post = await request(`${origin}/undici-interceptor/yes-502`, { method: 'POST', body: '{}', dispatcher });
      expect(JSON.parse(await post.body.text())).toMatchObject({ retryable: true });
    } finally {
      await agent.close();
    }
    expect(arrivals.get('GET /undici-interceptor/no-502')).toHaveLength(1);
    expect(arrivals.get('POST /undici-interceptor/yes-502')).toHaveLength(3);
  });

  it('passes a success through untouched', async () => {
    const { statusCode, text } = await send('/undici-body/ok', 'GET');
    expect(statusCode).toBe(200);
    expect(text).toBe('ok');
  });
});

describe('through the Express example gateway', () => {
  let faults: Faults;
  let gateway: Server;
  let gatewayUrl: string;
  /** Requests that reached the gateway, by `METHOD /path`. */
  const reached = new Map<string, number>();
  /** What the gateway answers a POST to the refused upstream: its verdict decides the expectation. */
  let postVerdict: boolean;
  const GATEWAY: RetryOptions = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

  beforeAll(async () => {
    faults = await startFaults();
    const { conventions, registry } = conventionsWithMetrics({ onError: false });
    const app = createApp({ conventions, registry, upstreams: { orders: faults.refused, inventory: faults.status, payments: faults.tls }, timeoutMs: 2000 });
    gateway = createServer((req, res) => {
      const key = `${req.method ?? ''} ${new URL(req.url ?? '/', 'http://x').pathname}`;
      reached.set(key, (reached.get(key) ?? 0) + 1);
      app(req, res);
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    const answer = await fetch(`${gatewayUrl}/orders/verdict`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const verdict = (await answer.json()) as { retryable?: unknown };
    expect(answer.status).toBe(502);
    expect(typeof verdict.retryable).toBe('boolean');
    postVerdict = verdict.retryable === true;
  });
  afterAll(async () => {
    gateway.closeAllConnections();
    await new Promise((resolve) => gateway.close(resolve));
    await faults.close();
  });
  beforeEach(() => {
    reached.clear();
  });

  const GATEWAY_CASES: { name: string; method: string; path: string; sent: (verdict: boolean) => number }[] = [
    { name: 'GET to the upstream with a bad certificate (502 retryable:false) is sent once', method: 'GET', path: '/payments/charges', sent: () => 1 },
    { name: 'GET to the refused upstream (502 retryable:true) is retried up to attempts', method: 'GET', path: '/orders/42', sent: () => 3 },
    { name: 'POST to the refused upstream does what the gateway’s verdict says', method: 'POST', path: '/orders', sent: (verdict) => (verdict ? 3 : 1) },
  ];

  for (const client of CLIENTS) {
    describe.runIf(nodeMajor >= client.minNode)(client.name, () => {
      it.each(GATEWAY_CASES)('$name', async ({ method, path, sent }) => {
        const send = await client.send();
        await send(gatewayUrl + path, method, { ...GATEWAY, signal: new AbortController().signal });
        expect(reached.get(`${method} ${path}`) ?? 0).toBe(sent(postVerdict));
      });
    });
  }
});
