/**
 * The hop to the upstream: what a service passes on when it calls another while handling a request
 * (its request ID and the W3C trace context), and what it takes back (the upstream's own request ID).
 * Runtime-neutral: the Node.js entry (node.ts) makes the current request's hop automatic with
 * AsyncLocalStorage; elsewhere it is handed over explicitly.
 */
import type { Conventions } from './conventions.js';
import { readSingleHeader } from './headers.js';
import type { HeadersLike } from './headers.js';

/** The incoming request's context for an outgoing call. */
export interface Hop {
  /** This request's ID, sent to the upstream in the conventions' request-ID header. */
  readonly requestId?: string | undefined;
  /** The W3C `traceparent` the request came with (validated by {@link hopOf}). */
  readonly traceparent?: string | undefined;
  /** The conventions in force: the request-ID header's name and the default upstream deadline. */
  readonly conventions?: Conventions | undefined;
}

/** Where the Node.js entry keeps the hop of the request being handled: one slot per process, every copy of the library. */
const SOURCE = Symbol.for('gateway-errors.hop-source');

/** The default request-ID header and upstream deadline, when no conventions are at hand. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 10_000;
const DEFAULT_HEADER = 'x-request-id';

// W3C Trace Context: version 00 is exactly these four fields; later versions may append `-…`.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-|$)/;
const ZEROS = /^0+$/;
const MAX_TRACEPARENT = 512;

/** What holds the current hop: the Node.js entry's AsyncLocalStorage. */
export interface HopStore {
  getStore(): Hop | undefined;
}

/**
 * The store of the current hop that every copy of the library shares (ESM and CommonJS, duplicate
 * installs, adapters): the first to ask installs the one `create` makes (an `AsyncLocalStorage`),
 * later callers get that one, and {@link currentHop} reads it. For adapters on runtimes that offer
 * AsyncLocalStorage; the Node.js entry's `runWithHop` uses it.
 */
export function sharedHopStore<T extends HopStore>(create: () => T): T {
  const found = Object.getOwnPropertyDescriptor(globalThis, SOURCE)?.value as T | undefined;
  if (found !== undefined && typeof found.getStore === 'function') return found;
  const store = create();
  Object.defineProperty(globalThis, SOURCE, { value: store, configurable: true });
  return store;
}

/**
 * The hop of the request being handled, where an adapter's request-ID middleware set one (Node.js
 * entries); `undefined` anywhere else. Never throws.
 */
export function currentHop(): Hop | undefined {
  try {
    const store = Object.getOwnPropertyDescriptor(globalThis, SOURCE)?.value as Partial<HopStore> | undefined;
    if (typeof store?.getStore !== 'function') return undefined;
    const hop: unknown = store.getStore();
    return typeof hop === 'object' && hop !== null ? hop : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The hop of an incoming request: its (already resolved) request ID and its `traceparent`, kept only
 * when it follows W3C Trace Context.
 *
 * @example
 * ```ts
 * const hop = hopOf(req.headers, requestId, conventions);
 * await fetchUpstream('orders', url, { hop });
 * ```
 */
export function hopOf(headers: HeadersLike | null | undefined, requestId: string, conventions?: Conventions): Hop {
  const traceparent = validTraceparent(readSingleHeader(headers, 'traceparent'));
  return { requestId, traceparent, conventions };
}

/**
 * The headers to put on a request to an upstream: this request's ID under the conventions'
 * request-ID header, and a `traceparent`: a child of the active span when OpenTelemetry is active,
 * else the one the request came with, else none (none is invented). Without a hop, the current
 * request's ({@link currentHop}). Never throws.
 *
 * @example
 * ```ts
 * await fetch(url, { headers: { ...forwardHeaders(), accept: 'application/json' } });
 * ```
 */
export function forwardHeaders(hop: Hop | undefined = currentHop()): Record<string, string> {
  const headers: Record<string, string> = {};
  if (hop === undefined || hop === null || typeof hop !== 'object') return withTrace(headers, undefined);
  let requestId: unknown;
  let traceparent: unknown;
  let conventions: unknown;
  try {
    ({ requestId, traceparent, conventions } = hop);
  } catch {
    return withTrace(headers, undefined);
  }
  if (typeof requestId === 'string' && requestId !== '' && requestId.length <= 1024 && !/[\r\n\0]/.test(requestId)) {
    headers[requestIdHeaderOf(conventions)] = requestId;
  }
  return withTrace(headers, validTraceparent(traceparent));
}

/** The default deadline of upstream calls under these conventions, in milliseconds. */
export function upstreamTimeoutOf(hop: Hop | undefined): number {
  try {
    const timeout = (hop?.conventions as { upstreamTimeoutMs?: unknown } | undefined)?.upstreamTimeoutMs;
    return typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_UPSTREAM_TIMEOUT_MS;
  } catch {
    return DEFAULT_UPSTREAM_TIMEOUT_MS;
  }
}

/** The upstream's own request-ID headers, most specific first. */
const UPSTREAM_ID_HEADERS = ['x-request-id', 'x-amzn-requestid', 'x-amz-request-id', 'cf-ray', 'x-correlation-id'] as const;
const UPSTREAM_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * The upstream's own request ID, from the headers of its answer (`x-request-id`,
 * `x-amzn-requestid`, `x-amz-request-id`, `cf-ray`, `x-correlation-id`): at most 200 printable
 * characters, else nothing. For log records and development `debug`, never production bodies.
 *
 * @example
 * ```ts
 * logger.warn({ upstreamRequestId: upstreamRequestId(response.headers) });
 * ```
 */
export function upstreamRequestId(headers: unknown): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  try {
    for (const name of UPSTREAM_ID_HEADERS) {
      const value = readSingleHeader(headers as HeadersLike, name);
      if (value !== undefined && UPSTREAM_ID.test(value)) return value;
    }
  } catch {
    // A getter or Proxy trap threw: no ID.
  }
  return undefined;
}

/** @internal A `traceparent` that follows W3C Trace Context, else `undefined`. */
export function validTraceparent(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_TRACEPARENT) return undefined;
  const match = TRACEPARENT.exec(value);
  if (match === null) return undefined;
  const [, version, traceId, parentId, more] = match;
  if (version === 'ff' || (version === '00' && more !== '') || ZEROS.test(traceId!) || ZEROS.test(parentId!)) return undefined;
  return value;
}

/** @internal The trace ID of a valid `traceparent`. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return validTraceparent(traceparent)?.slice(3, 35);
}

/**
 * @internal The trace ID of the request: that of OpenTelemetry's active span when the API is registered
 * and a span is active (the server span of this request, which continues the received trace or starts
 * one), else that of the `traceparent` received.
 */
export function requestTraceId(traceparent: string | undefined): string | undefined {
  return activeTraceId() ?? traceIdOf(traceparent);
}

function requestIdHeaderOf(conventions: unknown): string {
  try {
    const header = (conventions as { requestIdHeader?: unknown } | undefined)?.requestIdHeader;
    return typeof header === 'string' && header !== '' ? header : DEFAULT_HEADER;
  } catch {
    return DEFAULT_HEADER;
  }
}

/** The OpenTelemetry API's global slot (`@opentelemetry/api`, every 1.x). */
const OTEL = Symbol.for('opentelemetry.js.api.1');

/** The key of the active span in an OpenTelemetry context (`@opentelemetry/api`'s `createContextKey`). */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
const TRACE_ID = /^[0-9a-f]{32}$/;

interface OtelGlobal {
  readonly context?: { active?: () => unknown };
  readonly propagation?: { inject?: (context: unknown, carrier: Record<string, string>, setter: unknown) => void };
}

const SETTER = {
  set(carrier: Record<string, string>, key: string, value: string): void {
    if (key === 'traceparent' || key === 'tracestate') carrier[key] = value;
  },
};

/**
 * Adds the trace context: what OpenTelemetry's propagator injects for the active context when it is
 * registered (a child of the span that handles this request), else the `traceparent` received.
 */
function withTrace(headers: Record<string, string>, received: string | undefined): Record<string, string> {
  const injected = otelTraceparent();
  if (injected !== undefined) {
    headers['traceparent'] = injected.traceparent;
    if (injected.tracestate !== undefined) headers['tracestate'] = injected.tracestate;
  } else if (received !== undefined) {
    headers['traceparent'] = received;
  }
  return headers;
}

function activeTraceId(): string | undefined {
  // Without OpenTelemetry (the common case): one fast lookup, no descriptor made.
  if (!(OTEL in globalThis)) return undefined;
  try {
    const api = Object.getOwnPropertyDescriptor(globalThis, OTEL)?.value as OtelGlobal | undefined;
    const active = api?.context?.active;
    if (typeof active !== 'function') return undefined;
    const context = active.call(api!.context) as { getValue?: (key: symbol) => unknown } | undefined;
    const span = typeof context?.getValue === 'function' ? context.getValue(SPAN_KEY) : undefined;
    const spanContext = (span as { spanContext?: () => { traceId?: unknown } } | undefined)?.spanContext;
    if (typeof spanContext !== 'function') return undefined;
    const traceId = spanContext.call(span).traceId;
    return typeof traceId === 'string' && TRACE_ID.test(traceId) && !ZEROS.test(traceId) ? traceId : undefined;
  } catch {
    return undefined;
  }
}

function otelTraceparent(): { traceparent: string; tracestate?: string | undefined } | undefined {
  try {
    const api = Object.getOwnPropertyDescriptor(globalThis, OTEL)?.value as OtelGlobal | undefined;
    const active = api?.context?.active;
    const inject = api?.propagation?.inject;
    if (typeof active !== 'function' || typeof inject !== 'function') return undefined;
    const carrier: Record<string, string> = Object.create(null) as Record<string, string>;
    inject.call(api!.propagation, active.call(api!.context), carrier, SETTER);
    const traceparent = validTraceparent(carrier['traceparent']);
    if (traceparent === undefined) return undefined;
    const tracestate = carrier['tracestate'];
    return { traceparent, tracestate: typeof tracestate === 'string' && tracestate.length <= 512 ? tracestate : undefined };
  } catch {
    return undefined;
  }
}
