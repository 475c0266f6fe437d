import type { ErrorMapper } from './classify.js';
import { DEFAULT_UPSTREAM_TIMEOUT_MS } from './hop.js';
import type { ErrorHook, ProblemObserver } from './log.js';
import { ownCopy } from './own.js';
import { DEFAULT_REQUEST_ID_PATTERN } from './request-id.js';

/** The longest delay a timer takes (2^31 - 1 ms); a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** How much of an error a response may show. */
export type Mode = 'production' | 'development';

/** Options shared by every adapter. Pass them to {@link defineConventions} once and share the result. */
export interface ConventionsOptions {
  /** `production` hides every internal of an error; `development` adds a `debug` member. Default: `development` when `NODE_ENV` is `development`, else `production`. */
  readonly mode?: Mode | undefined;
  /** Prefix of every problem `type` URI. Default `urn:gateway-errors:`, giving `urn:gateway-errors:upstream-timeout`. */
  readonly typeBase?: string | undefined;
  /** Header that carries the request ID in and out, in any case (kept in lower case). Default `x-request-id`. */
  readonly requestIdHeader?: string | undefined;
  /** Reuse a valid incoming request ID. Default `true`. */
  readonly trustIncomingRequestId?: boolean | undefined;
  /** What an incoming request ID must match. Default: 1–200 of `A-Z a-z 0-9 - _ . : = + /`. */
  readonly requestIdPattern?: RegExp | undefined;
  /** Makes request IDs. Default: a random UUID (version 4), as `crypto.randomUUID()` makes. */
  readonly generateRequestId?: (() => string) | undefined;
  /** Retry-After (seconds) of a 503 or 429 when nothing better is known. Default 5. */
  readonly defaultRetryAfter?: number | undefined;
  /** Largest Retry-After passed on, in seconds, whatever an upstream said. Default 120. */
  readonly maxRetryAfter?: number | undefined;
  /** Show the application's upstream name (`"payments"`) in production bodies. Default `false`. */
  readonly exposeUpstream?: boolean | undefined;
  /** Emit the RFC 9209 `Proxy-Status` header. Default `true`. */
  readonly proxyStatus?: boolean | undefined;
  /** This service's name in `Proxy-Status`. Default `gateway-errors`. */
  readonly proxyName?: string | undefined;
  /**
   * Logging hook, called with every rendered error; `false` turns logging off. Default: each 5xx once,
   * masked, through the logger the adapter hands over (pino's `request.log`, Nest's `Logger`), else as a
   * JSON line on stderr.
   */
  readonly onError?: ErrorHook | false | undefined;
  /** Classifiers for an organisation's own errors, tried before the built-in rules. */
  readonly mappers?: readonly ErrorMapper[] | undefined;
  /**
   * The problem's `instance` member. Default `true`: the request path, without query or fragment,
   * percent-encoded, at most 1,024 characters. `false` leaves it out, for paths that carry secrets
   * (`/reset/<token>`); a function replaces it (return `undefined` to leave it out).
   */
  readonly instance?: boolean | InstanceMapper | undefined;
  /**
   * Default deadline of every upstream call, in milliseconds: `withUpstream`, `fetchUpstream` and the
   * adapters' proxy integrations. A call's own `timeoutMs` overrides it. Default 10,000.
   */
  readonly upstreamTimeoutMs?: number | undefined;
  /**
   * Whether the request-ID middleware keeps each request's hop (its ID and `traceparent`) in
   * AsyncLocalStorage, so `withUpstream`, `fetchUpstream`, `forwardHeaders()` and the NestJS axios
   * integration called while handling it forward them without being handed the hop. Default `true`.
   * On Node.js 20 and 22 that storage switches on async hooks for every promise of the process; a
   * service that hands the hop over itself (`{ hop }`), or only forwards through the proxy
   * integrations (which read the request), can set `false` and not pay for it.
   */
  readonly hopStorage?: boolean | undefined;
  /**
   * Called with every problem answered, whatever `onError` does: where traces and metrics are recorded
   * (`@gateway-errors/otel`). Each runs in the request's context, before the answer is written; a throw
   * is swallowed. Default none.
   */
  readonly observers?: readonly ProblemObserver[] | undefined;
}

/** Maps the request path to the problem's `instance`; its answer is capped and percent-encoded like the path. */
export type InstanceMapper = (path: string) => string | undefined;

/** Validated, frozen options with every default filled in. */
export interface Conventions {
  readonly mode: Mode;
  readonly typeBase: string;
  readonly requestIdHeader: string;
  readonly trustIncomingRequestId: boolean;
  readonly requestIdPattern: RegExp;
  readonly generateRequestId: (() => string) | undefined;
  readonly defaultRetryAfter: number;
  readonly maxRetryAfter: number;
  readonly exposeUpstream: boolean;
  readonly proxyStatus: boolean;
  readonly proxyName: string;
  readonly onError: ErrorHook | false | undefined;
  readonly mappers: readonly ErrorMapper[];
  readonly instance: boolean | InstanceMapper;
  readonly upstreamTimeoutMs: number;
  readonly hopStorage: boolean;
  readonly observers: readonly ProblemObserver[];
}

const KEYS: ReadonlySet<string> = new Set([
  'mode',
  'typeBase',
  'requestIdHeader',
  'trustIncomingRequestId',
  'requestIdPattern',
  'generateRequestId',
  'defaultRetryAfter',
  'maxRetryAfter',
  'exposeUpstream',
  'proxyStatus',
  'proxyName',
  'onError',
  'mappers',
  'instance',
  'upstreamTimeoutMs',
  'hopStorage',
  'observers',
]);

const defined = new WeakSet<object>();
const cache = new WeakMap<object, Conventions>();
let defaults: Conventions | undefined;

/**
 * Validates options once, at start-up, and returns one frozen object that every
 * adapter accepts unchanged. Bad options throw a `TypeError` naming the option.
 *
 * @example
 * ```ts
 * // conventions.ts, shared by every service of an organisation
 * export const conventions = defineConventions({
 *   typeBase: 'https://errors.example.com/',
 *   onError: ({ error, requestId }) => logger.error({ err: error, requestId }),
 * });
 * ```
 */
export function defineConventions(input: ConventionsOptions = {}): Conventions {
  if (typeof input !== 'object' || input === null) fail('options', 'an object', input);
  if (defined.has(input)) return input as Conventions;
  // Own properties only, each read once: a polluted Object.prototype must not set `mode: 'development'`.
  const options = ownCopy(input);
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) throw new TypeError(`gateway-errors: unknown option \`${key}\`. Known options: ${[...KEYS].join(', ')}.`);
  }
  const {
    mode = readNodeEnv() === 'development' ? 'development' : 'production',
    typeBase = 'urn:gateway-errors:',
    requestIdHeader = 'x-request-id',
    trustIncomingRequestId = true,
    requestIdPattern = DEFAULT_REQUEST_ID_PATTERN,
    generateRequestId,
    defaultRetryAfter = 5,
    maxRetryAfter = 120,
    exposeUpstream = false,
    proxyStatus = true,
    proxyName = 'gateway-errors',
    onError,
    mappers = [],
    instance = true,
    upstreamTimeoutMs = DEFAULT_UPSTREAM_TIMEOUT_MS,
    hopStorage = true,
    observers = [],
  } = options;

  if (mode !== 'production' && mode !== 'development') fail('mode', '"production" or "development"', mode);
  if (typeof typeBase !== 'string' || !/^[a-z][a-z0-9+.-]*:[\x21-\x7e]*$/i.test(typeBase)) {
    fail('typeBase', 'an absolute URI such as "https://errors.example.com/"', typeBase);
  }
  // Header names are case-insensitive: `X-Request-ID` is the same header, kept in lower case.
  if (typeof requestIdHeader !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/.test(requestIdHeader)) {
    fail('requestIdHeader', 'a header name such as "x-request-id"', requestIdHeader);
  }
  if (typeof trustIncomingRequestId !== 'boolean') fail('trustIncomingRequestId', 'a boolean', trustIncomingRequestId);
  if (!(requestIdPattern instanceof RegExp) || requestIdPattern.global || requestIdPattern.sticky) {
    fail('requestIdPattern', 'a RegExp without the g or y flag', requestIdPattern);
  }
  if (generateRequestId !== undefined && typeof generateRequestId !== 'function') {
    fail('generateRequestId', 'a function', generateRequestId);
  }
  if (!isSeconds(maxRetryAfter)) fail('maxRetryAfter', 'a whole number of seconds', maxRetryAfter);
  if (!isSeconds(defaultRetryAfter) || defaultRetryAfter > maxRetryAfter) {
    fail('defaultRetryAfter', `a whole number of seconds, at most maxRetryAfter (${maxRetryAfter})`, defaultRetryAfter);
  }
  if (typeof exposeUpstream !== 'boolean') fail('exposeUpstream', 'a boolean', exposeUpstream);
  if (typeof proxyStatus !== 'boolean') fail('proxyStatus', 'a boolean', proxyStatus);
  if (typeof proxyName !== 'string' || !/^[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]{0,99}$/.test(proxyName)) {
    fail('proxyName', 'a structured-field token such as "api-gateway"', proxyName);
  }
  if (onError !== undefined && onError !== false && typeof onError !== 'function') {
    fail('onError', 'a function or false', onError);
  }
  if (!Array.isArray(mappers) || mappers.some((mapper) => typeof mapper !== 'function')) {
    fail('mappers', 'an array of functions', mappers);
  }
  if (typeof instance !== 'boolean' && typeof instance !== 'function') fail('instance', 'a boolean or a function', instance);
  if (typeof upstreamTimeoutMs !== 'number' || !Number.isFinite(upstreamTimeoutMs) || upstreamTimeoutMs <= 0 || upstreamTimeoutMs > MAX_TIMER_MS) {
    fail('upstreamTimeoutMs', `a number of milliseconds above 0, at most ${MAX_TIMER_MS}`, upstreamTimeoutMs);
  }
  if (typeof hopStorage !== 'boolean') fail('hopStorage', 'a boolean', hopStorage);
  if (!Array.isArray(observers) || observers.some((observer) => typeof observer !== 'function')) {
    fail('observers', 'an array of functions', observers);
  }

  const conventions: Conventions = Object.freeze({
    mode,
    typeBase,
    requestIdHeader: requestIdHeader.toLowerCase(),
    trustIncomingRequestId,
    requestIdPattern,
    generateRequestId,
    defaultRetryAfter,
    maxRetryAfter,
    exposeUpstream,
    proxyStatus,
    proxyName,
    onError,
    mappers: Object.freeze(Array.from(mappers)),
    instance,
    upstreamTimeoutMs,
    hopStorage,
    observers: Object.freeze(Array.from(observers)),
  });
  defined.add(conventions);
  return conventions;
}

/** @internal Accepts conventions, raw options (validated once and cached) or nothing. */
export function resolveConventions(input: Conventions | ConventionsOptions | undefined): Conventions {
  if (input === undefined) return (defaults ??= defineConventions());
  if (defined.has(input)) return input as Conventions;
  let resolved = cache.get(input);
  if (resolved === undefined) {
    resolved = defineConventions(input);
    cache.set(input, resolved);
  }
  return resolved;
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 31_536_000;
}

function fail(option: string, expected: string, actual: unknown): never {
  const shown = typeof actual === 'string' ? JSON.stringify(actual) : typeof actual === 'function' ? 'a function' : String(actual);
  throw new TypeError(`gateway-errors: option \`${option}\` must be ${expected}; got ${shown}.`);
}

/** Reads NODE_ENV where a runtime has one, without depending on Node.js. */
function readNodeEnv(): string | undefined {
  try {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    return env?.['NODE_ENV'];
  } catch {
    return undefined;
  }
}
