// OpenTelemetry for one service: traces of every HTTP request (instrumentation-http), W3C trace context
// in and out, and each finished span printed as one JSON line on stdout. In production the exporter is
// OTLP to a collector; the rest is the same.
import { createRequire } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

/**
 * Starts tracing for `service`, before the service loads `http` and its framework.
 * @param {string} service
 */
export function startTelemetry(service) {
  registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: jsonLines(service) })] }));
  // The instrumentation patches `http.Server` when the module is required; an ES module imports it instead.
  createRequire(import.meta.url)('http');
}

/**
 * A span exporter that prints each span as `{"span":{…}}` on stdout.
 * @param {string} service
 * @returns {import('@opentelemetry/sdk-trace').SpanExporter}
 */
function jsonLines(service) {
  return {
    export(spans, done) {
      for (const span of spans) {
        const { traceId, spanId } = span.spanContext();
        const line = { service, name: span.name, kind: span.kind, traceId, spanId, parentSpanId: span.parentSpanContext?.spanId, status: span.status.code, attributes: span.attributes };
        process.stdout.write(`${JSON.stringify({ span: line })}\n`);
      }
      done({ code: 0 });
    },
    async shutdown() {},
  };
}
