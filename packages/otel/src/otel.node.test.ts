/**
 * The observer with the real OpenTelemetry SDK, `@opentelemetry/instrumentation-http` and
 * `-express` active, on 127.0.0.1: what lands on the request's SERVER span, what the counter
 * counts, and the problem body's `traceId`.
 */
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { DataPoint, MetricData } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { defineConventions } from '@gateway-errors/core';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import type { Conventions, ProblemObserver } from '@gateway-errors/core';
import { gatewayErrors, notFound, requestId } from '@gateway-errors/express';
import type Express from 'express';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ATTR_CODE, ATTR_PROXY_ERROR, ATTR_REQUEST_ID, ATTR_RETRYABLE, ATTR_UPSTREAM, FAILURES_METRIC, openTelemetry } from './index.js';

/** A reader collected by hand: what the SDK would export next. */
class ManualReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const instrumentations = registerInstrumentations({ instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(tracerProvider);

// Loaded after the instrumentations are enabled, as an instrumented application loads them.
const require = createRequire(import.meta.url);
const http = require('http') as typeof Http;
const express = require('express') as typeof Express;

let faults: Faults;
/** The global meter provider: registered after the observers were made, as an SDK started late is. */
let reader: ManualReader;
const servers: Server[] = [];

beforeAll(async () => {
  faults = await startFaults();
});

afterAll(async () => {
  for (const server of servers) server.close();
  await faults.close();
  instrumentations();
  trace.disable();
  context.disable();
  propagation.disable();
  metrics.disable();
});

beforeEach(() => exporter.reset());

async function gateway(observers: readonly ProblemObserver[], options: { mode?: 'production' | 'development' } = {}): Promise<string> {
  const conventions: Conventions = defineConventions({ mode: options.mode ?? 'production', onError: false, observers });
  const app = express();
  app.use(requestId(conventions));
  app.get('/orders', async (_req, res) => {
    const answer = await fetchUpstream('payments', `${faults.refused}/charges`);
    res.json(await answer.json());
  });
  app.get('/search', async () => {
    await fetchUpstream('search-tenant-42', `${faults.refused}/q`);
  });
  app.get('/timeout', async () => {
    await fetchUpstream('payments', `${faults.hang}/slow`, { timeoutMs: 50 });
  });
  app.get('/broken', () => {
    throw new Error('query failed for postgres://app:hunter2@db.internal/orders');
  });
  app.use(notFound(conventions));
  app.use(gatewayErrors(conventions));
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The spans of one request, once the server span ended. */
async function spansOf(requestIdValue: string): Promise<{ server: ReadableSpan; all: ReadableSpan[] }> {
  for (let tries = 0; tries < 100; tries++) {
    const all = exporter.getFinishedSpans();
    const server = all.find((span) => span.kind === 1 && span.attributes[ATTR_REQUEST_ID] === requestIdValue);
    if (server !== undefined) return { server, all: all.filter((span) => span.spanContext().traceId === server.spanContext().traceId) };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no server span of ${requestIdValue}: ${JSON.stringify(exporter.getFinishedSpans().map((span) => [span.name, span.kind, span.attributes]))}`);
}

async function call(url: string, id: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { headers: { 'x-request-id': id } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function failures(data: MetricData[] | undefined): Array<{ attributes: Record<string, unknown>; value: number }> {
  const metric = data?.find((candidate) => candidate.descriptor.name === FAILURES_METRIC);
  return (metric?.dataPoints ?? []).map((point: DataPoint<unknown>) => ({ attributes: { ...point.attributes }, value: point.value as number }));
}

async function collect(): Promise<MetricData[]> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
}

describe('on the SERVER span, with instrumentation-http and -express active', () => {
  let url: string;

  beforeAll(async () => {
    url = await gateway([openTelemetry({ upstreams: ['payments'] })]);
    // The SDK's meter provider arrives after the observer was made: the counter must still record.
    reader = new ManualReader();
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  });

  it('a refused upstream: status ERROR, our attributes, the instrumentation’s error.type left alone', async () => {
    const answer = await call(`${url}/orders`, 'otel-refused');
    expect(answer.status).toBe(502);
    const { server, all } = await spansOf('otel-refused');
    expect(server.status.code).toBe(2);
    expect(server.attributes).toMatchObject({
      [ATTR_CODE]: 'UPSTREAM_UNREACHABLE',
      [ATTR_PROXY_ERROR]: 'connection_refused',
      [ATTR_RETRYABLE]: true,
      [ATTR_UPSTREAM]: 'payments',
      'http.response.status_code': 502,
      'error.type': '502',
    });
    // Only the SERVER span: Express's middleware spans get none of it.
    const marked = all.filter((span) => span.attributes[ATTR_CODE] !== undefined);
    expect(marked).toEqual([server]);
    expect(all.length).toBeGreaterThan(1);
    expect(server.events.filter((event) => event.name === 'exception')).toEqual([]);
  });

  it("the problem body's traceId is the span's trace ID", async () => {
    const answer = await call(`${url}/orders`, 'otel-trace-id');
    const { server } = await spansOf('otel-trace-id');
    expect(answer.body['traceId']).toBe(server.spanContext().traceId);
  });

  it('continues the trace a caller sent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await fetch(`${url}/orders`, { headers: { 'x-request-id': 'otel-continued', traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(((await response.json()) as Record<string, unknown>)['traceId']).toBe(traceId);
    expect((await spansOf('otel-continued')).server.spanContext().traceId).toBe(traceId);
  });

  it('a 404 leaves the span UNSET, with our code', async () => {
    const answer = await call(`${url}/nowhere`, 'otel-404');
    expect(answer.status).toBe(404);
    const { server } = await spansOf('otel-404');
    expect(server.status.code).toBe(0);
    expect(server.attributes[ATTR_CODE]).toBe(answer.body['code']);
    expect(server.attributes['error.type']).toBeUndefined();
  });

  it('a timeout is a 504 with the timeout error type', async () => {
    const answer = await call(`${url}/timeout`, 'otel-504');
    expect(answer.status).toBe(504);
    const { server } = await spansOf('otel-504');
    expect(server.status.code).toBe(2);
    expect(server.attributes).toMatchObject({ [ATTR_CODE]: 'UPSTREAM_TIMEOUT', [ATTR_PROXY_ERROR]: 'http_response_timeout' });
  });

  it('never the message of the error on the server span', async () => {
    await call(`${url}/broken`, 'otel-500');
    // (instrumentation-express records what a handler throws on that handler's own span: its doing, not ours.)
    const { server } = await spansOf('otel-500');
    expect(server.attributes[ATTR_CODE]).toBe('INTERNAL_ERROR');
    expect(JSON.stringify([server.attributes, server.events, server.status])).not.toContain('hunter2');
  });

  it('counts each upstream failure by code, status and configured upstream; other names are _OTHER', async () => {
    const before = failures(await collect());
    const count = (attributes: Record<string, unknown>): number =>
      before.find((point) => JSON.stringify(point.attributes) === JSON.stringify(attributes))?.value ?? 0;
    const payments = { code: 'UPSTREAM_UNREACHABLE', status: 502, upstream: 'payments' };
    const other = { code: 'UPSTREAM_UNREACHABLE', status: 502, upstream: '_OTHER' };
    const start = { payments: count(payments), other: count(other) };
    await call(`${url}/orders`, 'otel-count-1');
    await call(`${url}/orders`, 'otel-count-2');
    await call(`${url}/search`, 'otel-count-3');
    await call(`${url}/broken`, 'otel-count-4');
    await call(`${url}/nowhere`, 'otel-count-5');
    const after = failures(await collect());
    const value = (attributes: Record<string, unknown>): number =>
      after.find((point) => JSON.stringify(point.attributes) === JSON.stringify(attributes))?.value ?? 0;
    expect(value(payments) - start.payments).toBe(2);
    expect(value(other) - start.other).toBe(1);
    // A 500 and a 404 are not failures of an upstream.
    expect(after.every((point) => [502, 503, 504].includes(point.attributes['status'] as number))).toBe(true);
    const metric = (await collect()).find((candidate) => candidate.descriptor.name === FAILURES_METRIC);
    expect(metric?.descriptor).toMatchObject({ unit: '{failure}' });
  });
});

describe('options', () => {
  it('overwriteErrorType: the code, over the value the instrumentation writes at the end', async () => {
    const url = await gateway([openTelemetry({ overwriteErrorType: true })]);
    await call(`${url}/orders`, 'otel-overwrite');
    expect((await spansOf('otel-overwrite')).server.attributes['error.type']).toBe('UPSTREAM_UNREACHABLE');
  });

  it('recordException: in production the type only', async () => {
    const url = await gateway([openTelemetry({ recordException: true })]);
    await call(`${url}/broken`, 'otel-exception-production');
    const { server } = await spansOf('otel-exception-production');
    expect(server.events.map(({ name, attributes }) => ({ name, attributes }))).toEqual([{ name: 'exception', attributes: { 'exception.type': 'Error' } }]);
  });

  it('recordException: in development the masked message and stack', async () => {
    const url = await gateway([openTelemetry({ recordException: true })], { mode: 'development' });
    await call(`${url}/broken`, 'otel-exception-development');
    const { server } = await spansOf('otel-exception-development');
    const [event] = server.events;
    expect(event?.attributes?.['exception.message']).toBe('query failed for postgres://***@db.internal/orders');
    expect(event?.attributes?.['exception.stacktrace']).toMatch(/^Error: query failed for postgres:\/\/\*\*\*@db\.internal\/orders\n {4}at /);
    expect(JSON.stringify(server.events)).not.toContain('hunter2');
  });

  it('an injected meterProvider is used instead of the global one', async () => {
    const own = new ManualReader();
    const url = await gateway([openTelemetry({ meterProvider: new MeterProvider({ readers: [own] }), upstreams: ['payments'] })]);
    await call(`${url}/orders`, 'otel-injected');
    const { resourceMetrics } = await own.collect();
    const points = failures(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics));
    expect(points).toEqual([{ attributes: { code: 'UPSTREAM_UNREACHABLE', status: 502, upstream: 'payments' }, value: 1 }]);
  });

  it('rejects bad options with a clear error', () => {
    expect(() => openTelemetry({ upstreams: 'payments' as unknown as string[] })).toThrow(/upstreams/);
    expect(() => openTelemetry({ upstreams: ['_OTHER'] })).toThrow(/_OTHER/);
    expect(() => openTelemetry({ upstreams: ['a b'] })).toThrow(/upstreams/);
    expect(() => openTelemetry({ recordException: 'yes' as unknown as boolean })).toThrow(/recordException/);
    expect(() => openTelemetry({ meterProvider: {} as never })).toThrow(/meterProvider/);
    expect(() => openTelemetry({ sampler: 1 } as never)).toThrow(/unknown option `sampler`/);
  });
});
