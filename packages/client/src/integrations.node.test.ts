import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import axiosRetry from 'axios-retry';
import got from 'got';
import ky from 'ky';
import { Agent, RetryAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** Each client, set up as its recipe says; a failure is swallowed: the server's count is what is checked. */
/**
 * `readsProblem: false`: the client drops the body of an answer before asking (undici's
 * RetryHandler), so the method decides as if there were no problem. `knowsFailedRequest: false`:
 * the client's network error does not say which request failed (ky 1), so it is not retried.
 */
const CLIENTS: { name: string; minNode: number; readsProblem: boolean; knowsFailedRequest?: false; send: () => Promise<Send> }[] = [
  {
    name: 'ky 1',
    readsProblem: true,
    knowsFailedRequest: false,
    minNode: 18,
    send: async () => (url, method, options) => ky(url, { method, body: method === 'POST' ? '{}' : null, retry: kyRetry(options), timeout: false, signal: options.signal }).then(ignore, ignore),
  },
  {
    name: 'ky 2',
    readsProblem: true,
    minNode: 22,
    send: async () => {
      const { default: ky2 } = await import('ky2');
      return (url, method, options) => ky2(url, { method, body: method === 'POST' ? '{}' : null, retry: kyRetry(options), timeout: false, signal: options.signal }).then(ignore, ignore);
    },
  },
  {
    name: 'got 14',
    readsProblem: true,
    minNode: 20,
    send: async () => (url, method, options) => got(url, { method: method as 'GET', body: method === 'POST' ? '{}' : undefined, retry: gotRetry(options), signal: options.signal }).then(ignore, ignore),
  },
  {
    name: 'got 16',
    readsProblem: true,
    minNode: 22,
    send: async () => {
      const { default: got16 } = await import('got16');
      return (url, method, options) => got16(url, { method: method as 'GET', body: method === 'POST' ? '{}' : undefined, retry: gotRetry(options), signal: options.signal }).then(ignore, ignore);
    },
  },
  {
    name: 'axios + axios-retry',
    readsProblem: true,
    minNode: 18,
    send: async () => (url, method, options) => {
      const api = axios.create();
      axiosRetry(api, axiosRetryOptions(options));
      return api.request({ url, method, data: method === 'POST' ? '{}' : undefined, signal: options.signal }).then(ignore, ignore);
    },
  },
  {
    name: 'undici RetryAgent',
    readsProblem: false,
    minNode: 20,
    send: async () => async (url, method, options) => {
      const agent = new Agent();
      const dispatcher = new RetryAgent(agent, undiciRetry(options));
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
 * The conformance cases: what the server's verdict makes each client do; `sentBlind`, how often a
 * client that cannot read the problem sends it (the method decides), when that differs.
 */
const CASES: { name: string; method: string; route: string; options: RetryOptions; sent: number; sentBlind?: number; sentUnknown?: number; minGapMs?: number; abortOnArrival?: true }[] = [
  { name: 'POST 502 retryable:false is sent once', method: 'POST', route: 'no-502', options: QUICK, sent: 1 },
  { name: 'POST 503 retryable:true is retried after Retry-After, up to attempts', method: 'POST', route: 'yes-503-after-1', options: { ...QUICK, attempts: 2 }, sent: 2, sentBlind: 1, minGapMs: 1_000 },
  { name: 'GET 502 retryable:false is not retried', method: 'GET', route: 'no-502', options: QUICK, sent: 1, sentBlind: 3 },
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

    it.each(CASES)('$name', async ({ method, route, options, sent, sentBlind = sent, sentUnknown = sent, minGapMs, abortOnArrival }) => {
      const path = `/${encodeURIComponent(client.name)}/${method}/${route}`;
      const controller = new AbortController();
      // Abort while the client waits out the Retry-After (1 s) of the first answer.
      if (abortOnArrival) onArrival.set(`${method} ${path}`, () => setTimeout(() => controller.abort(), 100));
      await send(origin + path, method, { ...options, signal: controller.signal });
      // The server's count, a moment after the client gave up: a late retry would show.
      if (abortOnArrival) await new Promise((resolve) => setTimeout(resolve, 1_200));
      const times = arrivals.get(`${method} ${path}`) ?? [];
      expect(times).toHaveLength(!client.readsProblem ? sentBlind : client.knowsFailedRequest === false ? sentUnknown : sent);
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
