import type { UpstreamCode } from './codes.js';
import { ownCopy } from './own.js';

/** @internal Marks errors of this library across copies of it. */
export const BRAND: unique symbol = Symbol.for('gateway-errors.upstream-error') as never;

/** Statuses an {@link UpstreamError} can carry. */
export type UpstreamStatus = 502 | 503 | 504;

/** Codes a {@link BadGatewayError} may name explicitly. */
export type BadGatewayCode = Extract<
  UpstreamCode,
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_CONNECTION_LOST'
  | 'UPSTREAM_TLS_FAILURE'
  | 'UPSTREAM_BAD_RESPONSE'
  | 'UPSTREAM_ERROR_STATUS'
>;

/** Options shared by every upstream error class. */
export interface UpstreamErrorOptions {
  /** Logical name of the dependency, such as `"payments"`. Never a host name or URL. */
  upstream?: string | undefined;
  /**
   * A public, human-readable explanation. Unlike `message`, it is meant for
   * clients and appears in every mode, so it must not contain internals.
   */
  detail?: string | undefined;
  /** When the client may retry: delay in seconds, or a point in time. */
  retryAfter?: number | Date | undefined;
  /** The status the upstream answered with, when it answered. */
  upstreamStatus?: number | undefined;
  /** The URL that was called. Shown (masked) in development only. */
  url?: string | undefined;
  /** The upstream's own request ID, from its answer (see `upstreamRequestId()`). Logged and shown in development only. */
  upstreamRequestId?: string | undefined;
  /** The error that caused this one. */
  cause?: unknown;
}

/** Options of the {@link UpstreamError} base class, which also takes its status. */
export interface UpstreamErrorInit extends UpstreamErrorOptions {
  status: UpstreamStatus;
  /** The problem code; derived from the status and the cause when omitted. */
  code?: UpstreamCode | undefined;
}

/**
 * Base class of the errors an application throws on purpose when a dependency
 * fails. Recognise it with {@link UpstreamError.isInstance}, which works across
 * duplicate installs and ESM/CJS copies where `instanceof` does not.
 *
 * @example
 * ```ts
 * throw new UpstreamError({ status: 502, upstream: 'inventory', cause: err });
 * ```
 */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  readonly status: UpstreamStatus;
  readonly code: UpstreamCode | undefined;
  readonly upstream: string | undefined;
  readonly detail: string | undefined;
  readonly retryAfter: number | Date | undefined;
  readonly upstreamStatus: number | undefined;
  readonly url: string | undefined;
  readonly upstreamRequestId: string | undefined;

  constructor(options: UpstreamErrorInit) {
    // Own options only, each read once: a polluted Object.prototype must not supply a `detail`.
    const init = (typeof options === 'object' && options !== null ? ownCopy(options) : {}) as UpstreamErrorInit;
    super(typeof init.detail === 'string' ? init.detail : defaultMessage(init), 'cause' in init ? { cause: init.cause } : undefined);
    this.status = init.status;
    this.code = init.code;
    this.upstream = init.upstream;
    this.detail = init.detail;
    this.retryAfter = init.retryAfter;
    this.upstreamStatus = init.upstreamStatus;
    this.url = init.url;
    this.upstreamRequestId = init.upstreamRequestId;
    // Non-enumerable, so the brand never shows in logs or JSON.
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any upstream error of this library, from any copy of it. */
  static isInstance(value: unknown): value is UpstreamError {
    return isBranded(value);
  }
}

/**
 * 502: the upstream was unreachable or answered with something unusable.
 *
 * @example
 * ```ts
 * if (!isValidOrder(body)) throw new BadGatewayError({ upstream: 'orders', code: 'UPSTREAM_BAD_RESPONSE' });
 * ```
 */
export class BadGatewayError extends UpstreamError {
  override name = 'BadGatewayError';
  constructor(options: UpstreamErrorOptions & { code?: BadGatewayCode | undefined } = {}) {
    super({ ...options, status: 502 });
  }

  static override isInstance(value: unknown): value is BadGatewayError {
    return isBranded(value) && value.status === 502;
  }
}

/**
 * 503: a dependency is unavailable or overloaded. Always answered with `Retry-After`.
 *
 * @example
 * ```ts
 * throw new ServiceUnavailableError({ upstream: 'search', retryAfter: 30 });
 * ```
 */
export class ServiceUnavailableError extends UpstreamError {
  override name = 'ServiceUnavailableError';
  constructor(options: UpstreamErrorOptions = {}) {
    super({ ...options, status: 503, code: 'UPSTREAM_UNAVAILABLE' });
  }

  static override isInstance(value: unknown): value is ServiceUnavailableError {
    return isBranded(value) && value.status === 503;
  }
}

/**
 * 504: the upstream did not answer in time.
 *
 * @example
 * ```ts
 * throw new GatewayTimeoutError({ upstream: 'pricing', cause: err });
 * ```
 */
export class GatewayTimeoutError extends UpstreamError {
  override name = 'GatewayTimeoutError';
  constructor(options: UpstreamErrorOptions = {}) {
    super({ ...options, status: 504, code: 'UPSTREAM_TIMEOUT' });
  }

  static override isInstance(value: unknown): value is GatewayTimeoutError {
    return isBranded(value) && value.status === 504;
  }
}

/**
 * Type guard for every error class of this library.
 *
 * @example
 * ```ts
 * if (isUpstreamError(err)) metrics.increment(err.upstream ?? 'unknown');
 * ```
 */
export function isUpstreamError(value: unknown): value is UpstreamError {
  return isBranded(value);
}

function isBranded(value: unknown): value is UpstreamError {
  try {
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  } catch {
    return false;
  }
}

/** Built only from a string name and a numeric status: JavaScript callers may pass anything. */
function defaultMessage(init: UpstreamErrorInit): string {
  const who = typeof init.upstream === 'string' ? `upstream "${init.upstream}"` : 'upstream';
  if (init.status === 504) return `${who} timed out`;
  if (init.status === 503) return `${who} unavailable`;
  return typeof init.upstreamStatus === 'number' ? `${who} answered ${init.upstreamStatus}` : `${who} failed`;
}
