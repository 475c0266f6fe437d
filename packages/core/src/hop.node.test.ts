import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import axios from 'axios';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineConventions } from './conventions.js';
import { describeError } from './describe.js';
import { toLogEntry } from './log.js';
import { GatewayTimeoutError, ServiceUnavailableError } from './errors.js';
import { currentHop, forwardHeaders, hopOf, upstreamRequestId } from './hop.js';
import { runWithHop } from './node.js';
import { renderProblem } from './render.js';
import { rejection } from './test-support/rejection.js';
import { fetchUpstream, withUpstream } from './upstream.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

let server: Server;
let base: string;
const received: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    received.push(req.headers);
    req.resume();
    if (req.url === '/hang') return; // never answers: the caller's deadline ends it
    if (req.url === '/busy') return void res.writeHead(503, { 'x-request-id': 'up-123', 'retry-after': '7' }).end('{"stack":"at db.js:1"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  received.length = 0;
});

const last = (): IncomingHttpHeaders => received.at(-1)!;

describe('hopOf() and forwardHeaders()', () => {
  const conventions = defineConventions({ requestIdHeader: 'x-correlation-id', onError: false });

  it("passes the request ID under the conventions' header and the traceparent received, unchanged", () => {
    expect(forwardHeaders(hopOf({ traceparent: TRACEPARENT }, 'req-1', conventions))).toEqual({ 'x-correlation-id': 'req-1', traceparent: TRACEPARENT });
    expect(forwardHeaders(hopOf(new Headers({ traceparent: TRACEPARENT }), 'req-1'))).toEqual({ 'x-request-id': 'req-1', traceparent: TRACEPARENT });
  });

  it('invents no traceparent, and passes on none that breaks W3C Trace Context', () => {
    expect(forwardHeaders(hopOf({}, 'req-1'))).toEqual({ 'x-request-id': 'req-1' });
    for (const bad of [
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      `${TRACEPARENT}-extra`,
      '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
      `${TRACEPARENT}\r\nx-evil: 1`,
      '0'.repeat(1_000_000),
    ]) {
      expect(forwardHeaders(hopOf({ traceparent: bad }, 'req-1'))).toEqual({ 'x-request-id': 'req-1' });
    }
    expect(forwardHeaders(hopOf({ traceparent: [TRACEPARENT, TRACEPARENT] }, 'req-1'))).toEqual({ 'x-request-id': 'req-1' });
  });

  it('is empty outside a request, and never throws on a hostile hop', () => {
    expect(currentHop()).toBeUndefined();
    expect(forwardHeaders()).toEqual({});
    const hostile = Object.defineProperty({}, 'requestId', {
      get() {
        throw new Error('boom');
      },
    });
    expect(forwardHeaders(hostile)).toEqual({});
    expect(forwardHeaders({ requestId: 'a\r\nx-evil: 1' })).toEqual({});
    expect(forwardHeaders({ requestId: 'x'.repeat(2000) })).toEqual({});
    expect(forwardHeaders(null as never)).toEqual({});
  });

  it('reads a hop that is polluted through its prototype no differently', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto['traceparent'] = TRACEPARENT;
    try {
      expect(forwardHeaders(hopOf({}, 'req-1'))).toEqual({ 'x-request-id': 'req-1' });
    } finally {
      delete proto['traceparent'];
    }
  });
});

describe('the hop of the request being handled (runWithHop)', () => {
  it('fetchUpstream and withUpstream pass the request ID and traceparent on, awaited or not', async () => {
    const hop = hopOf({ traceparent: TRACEPARENT }, 'req-7', defineConventions({ onError: false }));
    await runWithHop(hop, async () => {
      await Promise.resolve();
      expect(currentHop()).toBe(hop);
      await fetchUpstream('orders', `${base}/ok`);
      expect(last()).toMatchObject({ 'x-request-id': 'req-7', traceparent: TRACEPARENT });
      await withUpstream('orders', (signal, { headers }) => axios.get(`${base}/ok`, { signal, headers }));
      expect(last()).toMatchObject({ 'x-request-id': 'req-7', traceparent: TRACEPARENT });
      await new Promise<void>((resolve) => setTimeout(() => void fetchUpstream('orders', `${base}/ok`).then(() => resolve()), 1));
      expect(last()).toMatchObject({ 'x-request-id': 'req-7' });
    });
    await fetchUpstream('orders', `${base}/ok`);
    expect(last()['x-request-id']).toBeUndefined();
    expect(last()['traceparent']).toBeUndefined();
  });

  it('keeps the headers a call sets itself, on init and on a Request', async () => {
    await runWithHop(hopOf({}, 'req-8'), async () => {
      await fetchUpstream('orders', `${base}/ok`, { headers: { 'X-Request-Id': 'own', accept: 'application/json' } });
      expect(last()).toMatchObject({ 'x-request-id': 'own', accept: 'application/json' });
      await fetchUpstream('orders', new Request(`${base}/ok`, { headers: { 'x-request-id': 'from-request', 'x-keep': '1' } }));
      expect(last()).toMatchObject({ 'x-request-id': 'from-request', 'x-keep': '1' });
    });
  });

  it('an explicit hop wins over the current one', async () => {
    await runWithHop(hopOf({}, 'ambient'), async () => {
      await fetchUpstream('orders', `${base}/ok`, { hop: hopOf({}, 'explicit') });
      expect(last()['x-request-id']).toBe('explicit');
    });
  });
});

describe('the default upstream deadline', () => {
  it("is the conventions' upstreamTimeoutMs, over the request's hop", async () => {
    const hop = hopOf({}, 'req-9', defineConventions({ upstreamTimeoutMs: 80, onError: false }));
    const started = performance.now();
    const error = await runWithHop(hop, () => rejection(fetchUpstream('slow', `${base}/hang`)));
    expect(GatewayTimeoutError.isInstance(error)).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await rejection(fetchUpstream('slow', `${base}/hang`, { hop }))).toMatchObject({ upstream: 'slow', status: 504 });
  });

  it('a call of its own overrides it; Infinity means none, and the caller ends the call', async () => {
    const hop = hopOf({}, 'req-10', defineConventions({ upstreamTimeoutMs: 60_000, onError: false }));
    expect(await rejection(fetchUpstream('slow', `${base}/hang`, { hop, timeoutMs: 50 }))).toMatchObject({ status: 504 });
    const caller = new AbortController();
    const call = rejection(withUpstream('slow', (signal) => fetch(`${base}/hang`, { signal }), { hop, timeoutMs: Infinity, signal: caller.signal }));
    setTimeout(() => caller.abort(), 100);
    expect(GatewayTimeoutError.isInstance(await call)).toBe(false);
  });

  it('the option is validated: a number of milliseconds above 0 a timer can hold', () => {
    expect(defineConventions({}).upstreamTimeoutMs).toBe(10_000);
    for (const bad of [0, -1, Number.NaN, Infinity, 2 ** 31, '1000', null]) {
      expect(() => defineConventions({ upstreamTimeoutMs: bad as number }), String(bad)).toThrow(/upstreamTimeoutMs/);
    }
    expect(() => withUpstream('x', () => 1, { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
  });
});

describe("the upstream's own request ID", () => {
  it('is read from the headers upstreams use, capped and printable only', () => {
    expect(upstreamRequestId(new Headers({ 'x-amzn-requestid': 'aws-1' }))).toBe('aws-1');
    expect(upstreamRequestId({ 'cf-ray': '8c1-AMS' })).toBe('8c1-AMS');
    expect(upstreamRequestId({ 'x-request-id': 'a b' })).toBeUndefined();
    expect(upstreamRequestId({ 'x-request-id': 'x'.repeat(201) })).toBeUndefined();
    expect(upstreamRequestId('x-request-id: 1')).toBeUndefined();
  });

  it('goes to the log record and development debug, never to a production body', async () => {
    const error = await rejection(fetchUpstream('orders', `${base}/busy`));
    expect(ServiceUnavailableError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ upstreamRequestId: 'up-123' });
    expect(describeError(error).upstream).toMatchObject({ status: 503, requestId: 'up-123' });
    let logged: unknown;
    const production = renderProblem(error, { url: '/', id: 'req-1' }, defineConventions({ onError: (report) => void (logged = toLogEntry(report)) }));
    expect(production.status).toBe(503);
    expect(production.headers['retry-after']).toBe('7');
    expect(production.body).not.toContain('up-123');
    expect(logged).toMatchObject({ requestId: 'req-1', err: { upstream: { requestId: 'up-123' } } });
    const development = renderProblem(error, { url: '/', id: 'req-1' }, defineConventions({ mode: 'development', onError: false }));
    expect(JSON.parse(development.body!)).toMatchObject({ debug: { upstream: { requestId: 'up-123' } } });
  });

  it('is read from the answer an HTTP client error carries (axios)', async () => {
    const error = await rejection(axios.get(`${base}/busy`));
    expect(describeError(error).upstream).toMatchObject({ status: 503, requestId: 'up-123' });
  });
});

describe('with OpenTelemetry active', () => {
  const provider = new NodeTracerProvider();

  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('passes on a child of the active span, in the trace the request came with', async () => {
    const parent = propagation.extract(context.active(), { traceparent: TRACEPARENT });
    const tracer = trace.getTracer('test');
    await tracer.startActiveSpan('GET /orders', {}, parent, async (span) => {
      try {
        await runWithHop(hopOf({ traceparent: TRACEPARENT }, 'req-11'), () => fetchUpstream('orders', `${base}/ok`));
        const forwarded = String(last()['traceparent']);
        expect(forwarded).toBe(`00-0af7651916cd43dd8448eb211c80319c-${span.spanContext().spanId}-01`);
        expect(forwarded).not.toBe(TRACEPARENT);
        expect(last()['x-request-id']).toBe('req-11');
      } finally {
        span.end();
      }
    });
  });

  it("gives the problem body the active span's trace ID, a new trace's as well", () => {
    const tracer = trace.getTracer('test');
    const conventions = defineConventions({ onError: false });
    const started = tracer.startActiveSpan('GET /orders', (span) => {
      try {
        const body = JSON.parse(renderProblem(new GatewayTimeoutError(), { method: 'GET', url: '/orders', headers: {} }, conventions).body!) as Record<string, unknown>;
        return { body, traceId: span.spanContext().traceId };
      } finally {
        span.end();
      }
    });
    expect(started.body['traceId']).toBe(started.traceId);
    // Without an active span: the traceparent's, as before.
    const body = JSON.parse(renderProblem(new GatewayTimeoutError(), { headers: { traceparent: TRACEPARENT } }, conventions).body!) as Record<string, unknown>;
    expect(body['traceId']).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('falls back to the traceparent received when no span is active, and invents none', async () => {
    await runWithHop(hopOf({ traceparent: TRACEPARENT }, 'req-12'), () => fetchUpstream('orders', `${base}/ok`));
    expect(last()['traceparent']).toBe(TRACEPARENT);
    await runWithHop(hopOf({}, 'req-13'), () => fetchUpstream('orders', `${base}/ok`));
    expect(last()['traceparent']).toBeUndefined();
  });
});
