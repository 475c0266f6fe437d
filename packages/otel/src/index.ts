/**
 * OpenTelemetry for gateway-errors: every problem answered marks the request's server span (status,
 * `error.type`, this library's attributes) and every failure of an upstream counts in
 * `gateway_errors.upstream.failures`.
 *
 * Nothing here imports `@opentelemetry/api`: the API is read from the global slot it registers
 * itself in (every 1.x), at the moment of each failure. Without it, or before an SDK is registered,
 * the observer does nothing; an SDK registered later is used from then on.
 */
import type { Attributes, Counter, MeterProvider } from '@opentelemetry/api';
import type { Classification, ProblemObservation, ProblemObserver } from '@gateway-errors/core';
import { describeError } from '@gateway-errors/core';
import { FAILURES_METRIC, failureLabels, upstreamNames } from './failures.js';

export { FAILURES_METRIC, OTHER_UPSTREAM, isUpstreamFailure } from './failures.js';
export type { FailureLabels } from './failures.js';

/** The span attribute of the problem's stable code, such as `UPSTREAM_TIMEOUT`. */
export const ATTR_CODE = 'gateway_errors.code';
/** The span attribute of the RFC 9209 error type, such as `connection_refused` (5xx only). */
export const ATTR_PROXY_ERROR = 'gateway_errors.proxy_error';
/** The span attribute of the retry verdict: whether the client may send the same request again. */
export const ATTR_RETRYABLE = 'gateway_errors.retryable';
/** The span attribute of the upstream's name, as the application named it. */
export const ATTR_UPSTREAM = 'gateway_errors.upstream';
/** The span attribute of the request ID the answer and the log line carry. */
export const ATTR_REQUEST_ID = 'gateway_errors.request_id';
/** The conventions' `error.type`, shared by spans and metrics. */
export const ATTR_ERROR_TYPE = 'error.type';

/** Options of {@link openTelemetry}. */
export interface OpenTelemetryOptions {
  /**
   * The upstream names the counter's `upstream` attribute takes as they are; any other name, or none,
   * becomes `_OTHER`, so the number of series stays bounded. Default: none.
   */
  readonly upstreams?: readonly string[] | undefined;
  /** Where the counter is made. Default: the global provider at the time of each failure. */
  readonly meterProvider?: MeterProvider | undefined;
  /**
   * `error.type` is set to the problem's code only when nothing set it: by default, one written by
   * the HTTP instrumentation (the status, `"502"`) is left, so span and metric agree. `true` writes
   * the code over any other value, including the one the instrumentation writes when the response ends.
   */
  readonly overwriteErrorType?: boolean | undefined;
  /**
   * Adds an `exception` event to the span. Default `false`: the conventions no longer recommend it.
   * In production it holds the error's type only; in development also its masked message and stack.
   */
  readonly recordException?: boolean | undefined;
}

/** The span attributes of a problem, with their types. */
export interface ProblemSpanAttributes {
  readonly [ATTR_CODE]: string;
  readonly [ATTR_RETRYABLE]: boolean;
  readonly [ATTR_REQUEST_ID]: string;
  readonly [ATTR_PROXY_ERROR]?: string;
  readonly [ATTR_UPSTREAM]?: string;
}

const OPTIONS: ReadonlySet<string> = new Set(['upstreams', 'meterProvider', 'overwriteErrorType', 'recordException']);
const OWNER = '@gateway-errors/otel';

/**
 * A problem observer for the conventions: traces and metrics of every problem answered, with every
 * adapter.
 *
 * @example
 * ```ts
 * const conventions = defineConventions({ observers: [openTelemetry({ upstreams: ['payments', 'search'] })] });
 * ```
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): ProblemObserver {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${OWNER}: options must be an object.`);
  const given: Record<string, unknown> = {};
  for (const key of Object.keys(options)) {
    if (!OPTIONS.has(key)) throw new TypeError(`${OWNER}: unknown option \`${key}\`. Known options: ${[...OPTIONS].join(', ')}.`);
    given[key] = (options as Record<string, unknown>)[key];
  }
  const upstreams = upstreamNames(given['upstreams'], OWNER);
  const { meterProvider, overwriteErrorType = false, recordException = false } = given;
  if (meterProvider !== undefined && typeof (meterProvider as MeterProvider | null)?.getMeter !== 'function') {
    throw new TypeError(`${OWNER}: option \`meterProvider\` must be a MeterProvider (an object with getMeter).`);
  }
  if (typeof overwriteErrorType !== 'boolean') throw new TypeError(`${OWNER}: option \`overwriteErrorType\` must be a boolean.`);
  if (typeof recordException !== 'boolean') throw new TypeError(`${OWNER}: option \`recordException\` must be a boolean.`);
  const provider = meterProvider as MeterProvider | undefined;

  return function observeWithOpenTelemetry(observation: ProblemObservation): void {
    const api = otelApi();
    if (api === undefined) return;
    const { classification } = observation;
    const span = serverSpan(api);
    if (span !== undefined) markSpan(span, observation, { overwrite: overwriteErrorType, recordException });
    const labels = failureLabels(classification, upstreams);
    if (labels === undefined) return;
    const counter = counterOf(provider ?? api.metrics);
    counter?.add(1, { code: labels.code, status: labels.status, upstream: labels.upstream });
  };
}

/** The attributes {@link openTelemetry} sets on the span of a problem. */
export function problemSpanAttributes(classification: Classification, requestId: string): ProblemSpanAttributes {
  const attributes: { -readonly [K in keyof ProblemSpanAttributes]: ProblemSpanAttributes[K] } = {
    [ATTR_CODE]: classification.code,
    [ATTR_RETRYABLE]: classification.retryable,
    [ATTR_REQUEST_ID]: requestId,
  };
  if (classification.status >= 500 && classification.proxyError !== undefined) attributes[ATTR_PROXY_ERROR] = classification.proxyError;
  if (classification.upstream !== undefined) attributes[ATTR_UPSTREAM] = classification.upstream.slice(0, MAX_ATTRIBUTE);
  return attributes;
}

// ---------------------------------------------------------------------------
// The OpenTelemetry API, read from its global slot.

const MAX_ATTRIBUTE = 256;
/** `@opentelemetry/api` registers itself here, one slot per major version. */
const OTEL = Symbol.for('opentelemetry.js.api.1');
/** `createContextKey` of `@opentelemetry/api`: the active span. */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
/** `@opentelemetry/core`'s RPC metadata, where `@opentelemetry/instrumentation-http` keeps the SERVER span. */
const RPC_METADATA_KEY = Symbol.for('OpenTelemetry SDK Context Key RPC_METADATA');
/** `SpanStatusCode.ERROR`. */
const STATUS_ERROR = 2;

interface ContextLike {
  getValue(key: symbol): unknown;
}

interface OtelApi {
  readonly context: { active(): ContextLike };
  readonly metrics: MeterProvider | undefined;
}

interface SpanLike {
  isRecording(): boolean;
  setAttribute(key: string, value: string | number | boolean): unknown;
  setAttributes(attributes: Attributes): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  addEvent(name: string, attributes?: Attributes): unknown;
  end(...args: unknown[]): unknown;
  /** The SDK's span exposes what was set so far. */
  readonly attributes?: Readonly<Record<string, unknown>>;
}

function otelApi(): OtelApi | undefined {
  const slot = Object.getOwnPropertyDescriptor(globalThis, OTEL)?.value as Record<string, unknown> | undefined;
  const context = slot?.['context'] as { active?: unknown } | undefined;
  if (typeof context?.active !== 'function') return undefined;
  const metrics = slot!['metrics'] as MeterProvider | undefined;
  return { context: context as OtelApi['context'], metrics: typeof metrics?.getMeter === 'function' ? metrics : undefined };
}

/**
 * The span of the request: the SERVER span the HTTP instrumentation keeps in the context's RPC
 * metadata (a framework instrumentation's middleware span may be the active one), else the active span.
 */
function serverSpan(api: OtelApi): SpanLike | undefined {
  const context = api.context.active();
  if (typeof context?.getValue !== 'function') return undefined;
  const metadata = context.getValue(RPC_METADATA_KEY) as { span?: unknown } | undefined;
  const span = isSpan(metadata?.span) ? metadata.span : context.getValue(SPAN_KEY);
  return isSpan(span) && span.isRecording() ? span : undefined;
}

function isSpan(value: unknown): value is SpanLike {
  const span = value as SpanLike | undefined;
  return typeof span?.setAttributes === 'function' && typeof span.setStatus === 'function' && typeof span.isRecording === 'function';
}

function markSpan(span: SpanLike, observation: ProblemObservation, { overwrite, recordException }: { overwrite: boolean; recordException: boolean }): void {
  const { classification } = observation;
  span.setAttributes({ ...problemSpanAttributes(classification, observation.requestId) });
  if (classification.status < 500) return;
  // 5xx only: a 4xx is the client's error, and the conventions leave a server span UNSET for it.
  span.setStatus({ code: STATUS_ERROR });
  if (overwrite) {
    span.setAttribute(ATTR_ERROR_TYPE, classification.code);
    pinErrorType(span, classification.code);
  } else if (span.attributes?.[ATTR_ERROR_TYPE] === undefined) {
    span.setAttribute(ATTR_ERROR_TYPE, classification.code);
  }
  if (recordException) span.addEvent('exception', exceptionAttributes(observation));
}

/** Writes `error.type` once more just before the span ends: after the HTTP instrumentation wrote the status. */
function pinErrorType(span: SpanLike, value: string): void {
  const end = span.end;
  if (typeof end !== 'function') return;
  span.end = function endWithErrorType(this: SpanLike, ...args: unknown[]): unknown {
    try {
      span.setAttribute(ATTR_ERROR_TYPE, value);
    } catch {
      // The span is the SDK's; a failure here must not keep it from ending.
    }
    return end.apply(this, args);
  };
}

/** The `exception` event: the type, and in development the masked message and stack. */
function exceptionAttributes({ error, mode }: ProblemObservation): Attributes {
  const description = describeError(error);
  const attributes: Attributes = { 'exception.type': description.name };
  if (mode !== 'development') return attributes;
  attributes['exception.message'] = description.message;
  if (description.stack !== undefined) attributes['exception.stacktrace'] = [`${description.name}: ${description.message}`, ...description.stack].join('\n    ');
  return attributes;
}

// ---------------------------------------------------------------------------
// The counter, made on first use for each provider.

const counters = new WeakMap<MeterProvider, Counter>();

function counterOf(provider: MeterProvider | undefined): Counter | undefined {
  if (provider === undefined) return undefined;
  let counter = counters.get(provider);
  if (counter === undefined) {
    counter = provider.getMeter(OWNER).createCounter(FAILURES_METRIC, {
      unit: '{failure}',
      description: 'Failures of upstreams answered by this service: its 502, 503 and 504 problems.',
    });
    counters.set(provider, counter);
  }
  return counter;
}
