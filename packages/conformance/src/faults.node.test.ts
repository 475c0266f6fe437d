/**
 * Faults and load, against every adapter target on real 127.0.0.1 sockets:
 * sustained failing traffic (event loop and heap watched), clients that
 * leave mid-request, a response stream that fails after its headers, a
 * logging hook that throws, and an upstream that answers 1 ms after the
 * deadline. Every test is bounded in time and count, and checks that nothing
 * escaped (writes after a response ended here; unhandled rejections and
 * exceptions in every test of the suite) and that the process holds no more
 * sockets or timers than before it started.
 */
import { Agent, request as httpRequest, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { defineConventions } from '@gateway-errors/core';
import type { ConventionsOptions, ErrorReport } from '@gateway-errors/core';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { problemSchemaErrors } from './problem-schema.js';
import { FIRST_CHUNK, SHORT_DEADLINE_MS } from './scenarios.js';
import type { RunningTarget, Target } from './target.js';
import { targets } from './targets.js';

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

/** Routes that fail upstream, with the status each must answer. */
const FAILING: ReadonlyArray<{ readonly path: string; readonly status: number }> = [
  { path: '/s/refused', status: 502 },
  { path: '/s/upstream-500', status: 502 },
  { path: '/s/upstream-503', status: 503 },
  { path: '/s/hang-short', status: 504 },
  { path: '/s/late-by-1ms', status: 504 },
];

/** Load per target: stops at whichever of the count and the time budget comes first. */
const LOAD = { warmup: 150, total: 1500, concurrency: 32, budgetMs: 1250 } as const;
/**
 * Bounds generous enough for a busy 2-core machine that runs other jobs: they catch a leak or a loop
 * blocked for seconds, not slowness. The load generator, the app and its upstreams share one event
 * loop, so `/health` waits behind whatever is in flight: its p99 is reported, and bounded loosely.
 */
const MAX_HEAP_GROWTH_MB = 24;
const MAX_HEALTH_P99_MS = 3000;
/** How many requests must have been sent before the time budget ran out, for the load to count. */
const MIN_SENT = 100;

// ---------------------------------------------------------------------------
// What must not happen anywhere: writes after a response ended. (Errors that escape fail every
// test through the setup file of the suite.)

beforeEach(() => {
  lateWrites.length = 0;
});

afterEach(() => {
  expect(lateWrites).toEqual([]);
});

/** Writes onto a response that already ended, or a second head after the first. */
const lateWrites: string[] = [];
const { write, end, writeHead } = ServerResponse.prototype;

function hasData(chunk: unknown): boolean {
  return (typeof chunk === 'string' || chunk instanceof Uint8Array) && chunk.length > 0;
}

beforeAll(() => {
  ServerResponse.prototype.write = function probedWrite(this: ServerResponse, ...args: unknown[]): boolean {
    if (this.writableEnded) lateWrites.push(`write after end: ${this.req.method} ${this.req.url}`);
    return Reflect.apply(write, this, args) as boolean;
  } as typeof write;
  ServerResponse.prototype.end = function probedEnd(this: ServerResponse, ...args: unknown[]): ServerResponse {
    if (this.writableEnded && hasData(args[0])) lateWrites.push(`end with data after end: ${this.req.method} ${this.req.url}`);
    return Reflect.apply(end, this, args) as ServerResponse;
  } as typeof end;
  ServerResponse.prototype.writeHead = function probedWriteHead(this: ServerResponse, ...args: unknown[]): ServerResponse {
    if (this.headersSent) lateWrites.push(`second head: ${this.req.method} ${this.req.url}`);
    return Reflect.apply(writeHead, this, args) as ServerResponse;
  } as typeof writeHead;
});

afterAll(() => {
  Object.assign(ServerResponse.prototype, { write, end, writeHead });
});

// ---------------------------------------------------------------------------
// Sockets and timers: what the process holds before a target starts, it holds again after it closed.

const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'] as const;
type Resources = Record<(typeof WATCHED)[number], number>;

function resources(): Resources {
  const counts: Resources = { TCPSocketWrap: 0, TCPServerWrap: 0, Timeout: 0 };
  for (const name of process.getActiveResourcesInfo()) {
    if ((WATCHED as readonly string[]).includes(name)) counts[name as keyof Resources] += 1;
  }
  return counts;
}

/** What the process holds beyond `baseline`, by kind. */
function excess(baseline: Resources): Resources {
  const now = resources();
  return { TCPSocketWrap: 0, TCPServerWrap: 0, Timeout: 0, ...Object.fromEntries(WATCHED.flatMap((name) => (now[name] > baseline[name] ? [[name, now[name] - baseline[name]]] : []))) };
}

/** Polls for up to a second: closed sockets and fired timers leave the list a tick or two later. */
async function settle(baseline: Resources): Promise<Resources> {
  const stop = performance.now() + 1000;
  let left = excess(baseline);
  while (WATCHED.some((name) => left[name] > 0) && performance.now() < stop) {
    await sleep(20);
    left = excess(baseline);
  }
  return left;
}

/** What the process held before the first target started: every session must come back to it. */
let baseline: Resources | undefined;

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const stop = performance.now() + timeoutMs;
  while (performance.now() < stop) {
    if (await condition()) return true;
    await sleep(10);
  }
  return condition();
}

interface Session {
  readonly app: RunningTarget;
  readonly faults: Faults;
  readonly reports: ErrorReport[];
}

/** Starts fresh fault servers and the target, runs `body`, closes both, and checks nothing was left open. */
async function session(target: Target, options: ConventionsOptions, body: (session: Session) => Promise<void>): Promise<void> {
  baseline ??= resources();
  const reports: ErrorReport[] = [];
  const faults = await startFaults();
  const conventions = defineConventions({ mode: 'production', onError: (report) => void reports.push(report), ...options });
  const app = await target.start(conventions, faults);
  try {
    await body({ app, faults, reports });
  } finally {
    await app.close();
    await faults.close();
  }
  const left = await settle(baseline);
  expect({ target: target.name, ...left }).toEqual({ target: target.name, TCPSocketWrap: 0, TCPServerWrap: 0, Timeout: 0 });
}

// ---------------------------------------------------------------------------
// A small HTTP client: node:http with a keep-alive agent.

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function get(url: string, path: string, { agent, headers = {} }: { agent: Agent; headers?: Record<string, string> }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { agent, headers, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** What is wrong with a failing route's answer, or `undefined`. */
function wrongWith(reply: Reply, expected: { path: string; status: number; id: string }): string | undefined {
  const { headers } = reply;
  const seen = `${expected.path}: ${reply.status} ${String(headers['content-type'])}`;
  if (reply.status !== expected.status) return `${seen}, expected ${expected.status}`;
  if (headers['content-type'] !== PROBLEM_JSON) return `${seen}, expected ${PROBLEM_JSON}`;
  if (headers['cache-control'] !== 'no-store') return `${seen}, cache-control ${String(headers['cache-control'])}`;
  if (headers['x-request-id'] !== expected.id) return `${seen}, x-request-id ${String(headers['x-request-id'])}, expected ${expected.id}`;
  if (expected.status === 503 && !/^\d+$/.test(String(headers['retry-after']))) return `${seen}, no retry-after`;
  try {
    const body = JSON.parse(reply.body) as { status?: unknown; requestId?: unknown };
    if (body.status !== expected.status || body.requestId !== expected.id) return `${seen}, body ${reply.body}`;
    const invalid = problemSchemaErrors(body);
    if (invalid !== undefined) return `${seen}, body does not match the problem schema: ${invalid}`;
  } catch {
    return `${seen}, body is not JSON: ${reply.body.slice(0, 80)}`;
  }
  return undefined;
}

interface LoadResult {
  readonly sent: number;
  readonly wrong: readonly string[];
  readonly ms: number;
}

/** Sends the failing routes in turn with `concurrency` requests in flight, until `total` were sent or `budgetMs` ran out. */
async function load(url: string, { total, concurrency, budgetMs }: { total: number; concurrency: number; budgetMs: number }): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const started = performance.now();
  const stop = started + budgetMs;
  const wrong: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total && performance.now() < stop) {
      const i = next++;
      const { path, status } = FAILING[i % FAILING.length]!;
      const id = `load-${i}`;
      try {
        const problem = wrongWith(await get(url, path, { agent, headers: { 'x-request-id': id } }), { path, status, id });
        if (problem !== undefined) wrong.push(problem);
      } catch (error) {
        wrong.push(`${path}: ${String(error)}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { sent: next, wrong, ms: performance.now() - started };
}

/** Calls `/health` one request at a time until `done` resolves; returns each latency in ms. */
async function pollHealth(url: string, done: Promise<unknown>): Promise<{ latencies: number[]; wrong: string[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let finished = false;
  void done.finally(() => (finished = true));
  const latencies: number[] = [];
  const wrong: string[] = [];
  try {
    while (!finished) {
      const started = performance.now();
      const reply = await get(url, '/health', { agent });
      latencies.push(performance.now() - started);
      if (reply.status !== 200) wrong.push(`/health: ${reply.status}`);
    }
  } finally {
    agent.destroy();
  }
  return { latencies, wrong };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

// ---------------------------------------------------------------------------
// Raw sockets, for what a well-behaved client never does.

interface RawExchange {
  readonly text: string;
  /** The server closed the connection (or reset it) before the wait ran out. */
  readonly closed: boolean;
}

/** Writes `requests` one after another on one connection, each after the previous answer, and reads until `waitMs` of silence or close. */
function exchange(url: string, requests: readonly string[], waitMs: number): Promise<RawExchange> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    let text = '';
    let pending = [...requests];
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const sendNext = (): void => {
      const [request, ...rest] = pending;
      pending = rest;
      if (request === undefined) return finish(false);
      socket.write(request);
      quiet();
    };
    const quiet = (): void => {
      clearTimeout(timer);
      timer = setTimeout(sendNext, waitMs);
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      quiet();
    });
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
    socket.on('connect', sendNext);
  });
}

/** Sends `request` and leaves after `afterMs`: a FIN, or a RST when `reset`. */
function abandon(url: string, request: string, { afterMs, reset }: { afterMs: number; reset: boolean }): Promise<void> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port: Number(port) }, () => {
      socket.write(request);
      setTimeout(() => {
        if (reset) socket.resetAndDestroy();
        else socket.destroy();
      }, afterMs);
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
}

const head = (method: string, path: string, extra = ''): string =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\nX-Request-Id: raw-1\r\n${extra}\r\n`;

function statusLines(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
}

// ---------------------------------------------------------------------------

const measured: string[] = [];

afterAll(() => {
  if (measured.length > 0) console.log(`faults and load (Node.js ${process.version}):\n  ${measured.join('\n  ')}`);
});

describe.each(targets)('$name', (target) => {
  it('keeps answering failing upstreams correctly under load, with a responsive loop and a flat heap', async () => {
    // Counted, not kept: the reports would hold every error and weigh on the heap.
    let logged = 0;
    await session(target, { onError: () => void (logged += 1) }, async ({ app }) => {
      const warmup = await load(app.url, { ...LOAD, total: LOAD.warmup });
      expect(warmup.wrong.slice(0, 5)).toEqual([]);
      const heapBefore = heapMb();

      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const running = load(app.url, LOAD);
      const [result, health] = await Promise.all([running, pollHealth(app.url, running)]);
      loop.disable();
      const heapAfter = heapMb();
      const p99 = percentile(health.latencies, 99);
      measured.push(
        `${target.name}: ${result.sent} requests in ${result.ms.toFixed(0)} ms; /health p99 ${p99.toFixed(1)} ms ` +
          `(${health.latencies.length} polls); event loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms; ` +
          `heap ${heapBefore.toFixed(1)} -> ${heapAfter.toFixed(1)} MB (${(heapAfter - heapBefore).toFixed(1)} MB)`,
      );

      expect(result.wrong.slice(0, 5)).toEqual([]);
      expect(health.wrong).toEqual([]);
      expect(result.sent).toBeGreaterThanOrEqual(MIN_SENT);
      expect(health.latencies.length).toBeGreaterThan(0);
      expect(p99).toBeLessThan(MAX_HEALTH_P99_MS);
      expect(heapAfter - heapBefore).toBeLessThan(MAX_HEAP_GROWTH_MB);
      // Every failure reached the logging hook once.
      expect(logged).toBe(warmup.sent + result.sent);
      expect(await until(async () => (await app.connections()) === 0, 1000)).toBe(true);
    });
  });

  it('survives clients that disconnect mid-request', async () => {
    await session(target, {}, async ({ app }) => {
      const paths = [...FAILING.map(({ path }) => path), '/stream', '/started'];
      const gone = paths.flatMap((path) =>
        [0, 2, 10, SHORT_DEADLINE_MS - 5].map((afterMs, i) => abandon(app.url, head('GET', path), { afterMs, reset: i % 2 === 1 })),
      );
      // A request body that never arrives in full.
      const partial = head('POST', '/orders', 'Content-Type: application/json\r\nContent-Length: 1000\r\n') + '{"name": "a';
      gone.push(abandon(app.url, partial, { afterMs: 5, reset: false }), abandon(app.url, partial, { afterMs: 5, reset: true }));
      await Promise.all(gone);

      // Handlers still waiting for their upstreams finish after the deadline.
      await sleep(SHORT_DEADLINE_MS * 4);
      expect(await until(async () => (await app.connections()) === 0, 1000)).toBe(true);

      const agent = new Agent({ keepAlive: true });
      try {
        const health = await get(app.url, '/health', { agent });
        expect(health.status).toBe(200);
        const reply = await get(app.url, '/s/upstream-503', { agent, headers: { 'x-request-id': 'after-disconnects' } });
        expect(wrongWith(reply, { path: '/s/upstream-503', status: 503, id: 'after-disconnects' })).toBeUndefined();
      } finally {
        agent.destroy();
      }
    });
  });

  it('aborts a response stream that fails after its headers were sent', async () => {
    // node-server logs the error of a failed response body on stderr.
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    await session(target, {}, async ({ app }) => {
      // The framework's own streaming, and a head written by the route before the error reaches the adapter.
      const paths = ['/stream', '/started'].flatMap((path) => [path, path]);
      const streams = await Promise.all(paths.map((path) => exchange(app.url, [head('GET', path)], 2000)));
      for (const { text, closed } of streams) {
        // One response, cut short: the connection closes without the last chunk, and nothing else is sent.
        expect(closed).toBe(true);
        expect(statusLines(text)).toEqual([200]);
        expect(text).toMatch(/transfer-encoding: chunked/i);
        expect(text).toContain(FIRST_CHUNK);
        expect(text).not.toMatch(/\r\n0\r\n\r\n$/);
        expect(text).not.toContain('problem+json');
      }
      const agent = new Agent({ keepAlive: true });
      try {
        expect((await get(app.url, '/health', { agent })).status).toBe(200);
      } finally {
        agent.destroy();
      }
      expect(await until(async () => (await app.connections()) === 0, 1000)).toBe(true);
    }).finally(() => quiet.mockRestore());
  });

  it('answers correctly when the logging hook throws or rejects', async () => {
    let calls = 0;
    const onError = (): Promise<void> => {
      calls += 1;
      if (calls % 3 === 1) throw new Error('log sink down');
      if (calls % 3 === 2) return Promise.reject(new Error('log sink down'));
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- not an Error, thrown: a hook may do that too
      throw 'log sink down';
    };
    await session(target, { onError }, async ({ app }) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      try {
        const sent = FAILING.flatMap(({ path, status }) => [1, 2, 3].map((n) => ({ path, status, id: `hook-${n}-${path.slice(3)}` })));
        const replies = await Promise.all(sent.map((expected) => get(app.url, expected.path, { agent, headers: { 'x-request-id': expected.id } })));
        replies.forEach((reply, i) => expect(wrongWith(reply, sent[i]!)).toBeUndefined());
        expect(calls).toBe(sent.length);
        expect((await get(app.url, '/health', { agent })).status).toBe(200);
      } finally {
        agent.destroy();
      }
    });
  });

  it('answers 504 once when the upstream answers 1 ms after the deadline', async () => {
    await session(target, {}, async ({ app, reports }) => {
      // The late answer arrives while the connection waits for its next request; then one more on the same connection.
      const { text, closed } = await exchange(app.url, [head('GET', '/s/late-by-1ms'), head('GET', '/health')], SHORT_DEADLINE_MS * 3);
      expect(closed).toBe(false);
      expect(statusLines(text)).toEqual([504, 200]);
      expect(text).toContain(PROBLEM_JSON);
      expect(reports.map((report) => report.classification.code)).toEqual(['UPSTREAM_TIMEOUT']);

      // And many at once, racing the deadline against the late answers.
      const agent = new Agent({ keepAlive: true, maxSockets: 16 });
      try {
        const replies = await Promise.all(
          Array.from({ length: 32 }, (_, i) => get(app.url, '/s/late-by-1ms', { agent, headers: { 'x-request-id': `late-${i}` } })),
        );
        replies.forEach((reply, i) => expect(wrongWith(reply, { path: '/s/late-by-1ms', status: 504, id: `late-${i}` })).toBeUndefined());
        await sleep(SHORT_DEADLINE_MS * 2);
      } finally {
        agent.destroy();
      }
    });
  });
});
