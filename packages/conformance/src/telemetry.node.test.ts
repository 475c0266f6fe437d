/**
 * The telemetry table: `@gateway-errors/otel` with every adapter and every proxy integration, the real
 * OpenTelemetry SDK and `@opentelemetry/instrumentation-http` active, on 127.0.0.1. The same failure
 * marks the request's SERVER span alike in every framework (status, attributes, `error.type`), the
 * body's `traceId` is that span's trace ID, a 4xx leaves the span UNSET, and the counter counts it once.
 */
import { createRequire } from 'node:module';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { defineConventions } from '@gateway-errors/core';
import type { Conventions } from '@gateway-errors/core';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import { ATTR_CODE, ATTR_REQUEST_ID, FAILURES_METRIC, openTelemetry } from '@gateway-errors/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyStacks } from './proxy-targets.js';
import { targets } from './targets.js';

class ManualReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const exporter = new InMemorySpanExporter();
const reader = new ManualReader();
const disable = registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
// The HTTP instrumentation patches `http.Server` when the module is first required after it is enabled.
createRequire(import.meta.url)('http');

let faults: Faults;
const conventions: Conventions = defineConventions({ mode: 'production', onError: false, observers: [openTelemetry({ upstreams: ['orders'] })] });

beforeAll(async () => {
  faults = await startFaults();
});

afterAll(async () => {
  await faults.close();
  disable();
  trace.disable();
  context.disable();
  propagation.disable();
  metrics.disable();
});

async function serverSpan(requestId: string): Promise<ReadableSpan> {
  for (let tries = 0; tries < 200; tries++) {
    const span = exporter.getFinishedSpans().find((candidate) => candidate.kind === 1 && candidate.attributes[ATTR_REQUEST_ID] === requestId);
    if (span !== undefined) return span;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no SERVER span with request ID ${requestId}`);
}

/** What the span shows of a problem: the same in every framework. */
function shown(span: ReadableSpan): Record<string, unknown> {
  const ours = Object.fromEntries(Object.entries(span.attributes).filter(([key]) => key.startsWith('gateway_errors.') && key !== ATTR_REQUEST_ID));
  return { status: span.status.code, errorType: span.attributes['error.type'], httpStatus: span.attributes['http.response.status_code'], ...ours };
}

async function failures(): Promise<Map<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((candidate) => candidate.descriptor.name === FAILURES_METRIC);
  return new Map((metric?.dataPoints ?? []).map((point) => [JSON.stringify(point.attributes), point.value as number]));
}

const REFUSED = { code: 'UPSTREAM_UNREACHABLE', status: 502 };
const seen = new Map<string, Record<string, unknown>>();

const cases = [
  ...targets.map((target) => ({ name: target.name, kind: 'route', path: '/s/refused', upstream: '_OTHER', start: () => target.start(conventions, faults) })),
  // A Nest controller calls axios itself: it names the upstream only when it wraps the call in withUpstream().
  ...proxyStacks.map((stack) => ({
    name: stack.name,
    kind: 'proxy',
    path: '/p/refused/orders',
    upstream: stack.name.startsWith('nestjs') ? '_OTHER' : 'orders',
    start: () => stack.start(conventions, { refused: faults.refused }),
  })),
];

describe.each(cases)('$name ($kind)', ({ name, kind, path, upstream, start }) => {
  it('a refused upstream: the SERVER span, the body’s traceId and the counter', async () => {
    const app = await start();
    try {
      const before = await failures();
      const id = `otel-${kind}-${name.replace(/[^a-z0-9]+/gi, '-')}`;
      const response = await fetch(`${app.url}${path}`, { headers: { 'x-request-id': id } });
      const body = (await response.json()) as Record<string, unknown>;
      expect(response.status).toBe(502);
      const span = await serverSpan(id);
      expect(body['traceId']).toBe(span.spanContext().traceId);
      expect(span.attributes[ATTR_CODE]).toBe('UPSTREAM_UNREACHABLE');
      seen.set(`${kind} ${name}`, shown(span));
      expect(span.attributes['gateway_errors.upstream']).toBe(upstream === '_OTHER' ? undefined : upstream);
      const key = JSON.stringify({ ...REFUSED, upstream });
      expect(((await failures()).get(key) ?? 0) - (before.get(key) ?? 0)).toBe(1);

      if (kind === 'route') {
        const notFound = `${id}-404`;
        const answer = await fetch(`${app.url}/s/http-error-404`, { headers: { 'x-request-id': notFound } });
        expect(answer.status).toBe(404);
        const unset = await serverSpan(notFound);
        expect(unset.status.code).toBe(0);
        expect(unset.attributes['error.type']).toBeUndefined();
      }
    } finally {
      await app.close();
    }
  });
});

describe('every framework marks the span alike', () => {
  it('the same status, error.type and attributes for the same failure', () => {
    expect(seen.size).toBe(cases.length);
    for (const [where, attributes] of seen) {
      expect({ where, ...attributes }).toEqual({
        where,
        status: 2,
        errorType: '502',
        httpStatus: 502,
        'gateway_errors.code': 'UPSTREAM_UNREACHABLE',
        'gateway_errors.proxy_error': 'connection_refused',
        'gateway_errors.retryable': true,
        ...(where.startsWith('proxy') && !where.includes('nestjs') ? { 'gateway_errors.upstream': 'orders' } : {}),
      });
    }
  });
});
