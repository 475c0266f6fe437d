/**
 * What the classifier decides, and the last step of every decision: a signal (signals.ts) becomes a
 * `Classification` with its retry guidance. The public types of `classify()` live here; classify.ts
 * re-exports them.
 */
import { CODE_INFO, titleForStatus } from './codes.js';
import type { ProxyErrorType } from './codes.js';
import { readSingleHeader } from './headers.js';
import type { HeadersLike } from './headers.js';
import { parseRetryAfter } from './retry-after.js';
import { complete, isHttpStatus, TLS } from './signals.js';
import type { Signal } from './signals.js';

/** One failed field of a validation error. */
export interface ProblemFieldError {
  /** JSON Pointer (as a URI fragment, `#/name`) into the request body, when the failure is in the body. */
  readonly pointer?: string | undefined;
  readonly detail: string;
}

/** What the core decided about a failure. */
export interface Classification {
  /** The status this service answers with. */
  readonly status: number;
  /** Stable identifier, such as `UPSTREAM_TIMEOUT`. */
  readonly code: string;
  readonly title: string;
  /** Whether a client may safely send the same request again. */
  readonly retryable: boolean;
  /** Seconds the client should wait before retrying, when known. */
  readonly retryAfter?: number | undefined;
  /** Logical name of the failing dependency, when the application named it. */
  readonly upstream?: string | undefined;
  /** Whether `detail` comes from the error and may be shown to clients (kept 4xx). */
  readonly expose: boolean;
  /** RFC 9209 error type for the `Proxy-Status` header. */
  readonly proxyError?: ProxyErrorType | undefined;
  /** `false` only when the request provably never reached the upstream. */
  readonly reachedUpstream: boolean;
  /** The status the upstream answered with, when it answered. */
  readonly upstreamStatus?: number | undefined;
  /** A public detail: an exposed 4xx message or an application-written `detail`. */
  readonly detail?: string | undefined;
  /** Per-field validation failures of a kept 400/422. */
  readonly errors?: readonly ProblemFieldError[] | undefined;
}

/** The parts of a request that classification looks at. */
export interface ClassifyRequest {
  readonly method?: string | undefined;
  readonly headers?: HeadersLike | undefined;
}

/** What a mapper may decide. Returning a `status` or a known `code` takes the decision over; other fields refine the built-in result. */
export type ClassificationOverride = { -readonly [K in keyof Classification]?: Classification[K] };

/**
 * Teaches the core an error it does not know. Called for the thrown value and
 * every error in its `cause` chain, before the built-in rules.
 */
export type ErrorMapper = (error: unknown, request: ClassifyRequest | undefined) => ClassificationOverride | undefined;

/** Options of {@link classify}; {@link defineConventions} produces a superset. */
export interface ClassifyOptions {
  readonly mappers?: readonly ErrorMapper[] | undefined;
  /** Retry-After (seconds) of a 503 or 429 when nothing better is known. Default 5. */
  readonly defaultRetryAfter?: number | undefined;
  /** Largest Retry-After passed on (seconds). Default 120. */
  readonly maxRetryAfter?: number | undefined;
}

/** @internal What a decision is made for. */
export interface Context {
  readonly request: ClassifyRequest | undefined;
  readonly options: ClassifyOptions | undefined;
  readonly upstream?: string | undefined;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** @internal The chosen signal as a classification: its title, bounded Retry-After and retry guidance. */
export function finish(verdict: Signal, context: Context): Classification {
  const { request, options, upstream } = context;
  const signal = complete(verdict);
  const { status, code } = signal;
  const reachedUpstream = signal.reached !== false;
  const max = options?.maxRetryAfter ?? 120;
  let retryAfter = signal.retryAfter === undefined ? undefined : parseRetryAfter(signal.retryAfter, { max });
  if (retryAfter === undefined && (status === 503 || status === 429)) retryAfter = Math.min(options?.defaultRetryAfter ?? 5, max);
  return {
    status,
    code,
    title: CODE_INFO[code]?.title ?? titleForStatus(status),
    retryable: isRetryable(signal, reachedUpstream, request),
    retryAfter,
    upstream,
    expose: signal.expose === true,
    proxyError: signal.proxyError,
    reachedUpstream,
    upstreamStatus: isHttpStatus(signal.upstreamStatus) ? signal.upstreamStatus : undefined,
    detail: signal.detail,
    errors: signal.errors,
  };
}

function isRetryable(signal: Signal, reached: boolean, request: ClassifyRequest | undefined): boolean {
  const { status, code } = signal;
  if (status === 503 || status === 429) return true;
  if (status !== 502 && status !== 504) return false;
  if (code === TLS || signal.final === true) return false;
  const upstreamStatus = signal.upstreamStatus;
  if (upstreamStatus !== undefined && upstreamStatus >= 400 && upstreamStatus < 500) return false;
  if (!reached) return true;
  return request !== undefined && isIdempotent(request);
}

/** @internal */
export function isIdempotent(request: ClassifyRequest): boolean {
  const method = typeof request.method === 'string' ? request.method.toUpperCase() : undefined;
  if (method !== undefined && IDEMPOTENT.has(method)) return true;
  const key = readSingleHeader(request.headers, 'idempotency-key');
  return key !== undefined && key.length > 0;
}
