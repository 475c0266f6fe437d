/**
 * The retry decision every integration uses: whether to send a request again and when. The
 * server's verdict (`retryable` of a problem) decides when there is one; otherwise the method does
 * (RFC 9110 §9.2.2), and the request's `Idempotency-Key`.
 */
import type { Problem } from './problem.js';

/** Limits of retrying. Every field is optional; bad values throw a `TypeError` naming the option. */
export interface RetryOptions {
  /** Attempts in total, the first included. Default 3; at most 10. */
  readonly attempts?: number | undefined;
  /** Time from the first attempt after which no attempt starts, in ms. Default 30,000. */
  readonly budgetMs?: number | undefined;
  /** A `Retry-After` longer than this gives up at once rather than wait, in ms. Default 60,000. */
  readonly maxRetryAfterMs?: number | undefined;
  /** First backoff step, in ms: the n-th retry waits a random time below `baseDelayMs × 2^(n−1)`. Default 200. */
  readonly baseDelayMs?: number | undefined;
  /** Longest backoff step, in ms. Default 10,000. */
  readonly maxDelayMs?: number | undefined;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

/** What the decision looks at after an attempt. */
export interface RetryInput {
  /** The request's method. */
  readonly method: string;
  /** Attempts made so far, the one just ended included (1 after the first). */
  readonly attempt: number;
  /** The answer's status; absent when the attempt got none (a network error). */
  readonly status?: number | undefined;
  /** The answer's problem, when it is one (`parseProblem`). */
  readonly problem?: Problem | undefined;
  /** The answer's `Retry-After` header. */
  readonly retryAfter?: string | null | undefined;
  /** The answer's `Date` header: an HTTP-date `Retry-After` is read against it. */
  readonly date?: string | null | undefined;
  /** Why the attempt got no answer. */
  readonly error?: unknown;
  /** Whether the request carries an `Idempotency-Key`. */
  readonly idempotencyKey?: boolean | undefined;
  /** The caller's signal: once it fired, nothing is retried. */
  readonly signal?: AbortSignal | null | undefined;
  /** Time since the first attempt started, in ms. */
  readonly elapsedMs?: number | undefined;
}

/** Whether to retry, after how long, and why (for logs and `onRetry`). */
export interface RetryDecision {
  readonly retry: boolean;
  /** The wait before the next attempt, in ms (0 when not retrying). */
  readonly delayMs: number;
  readonly reason: RetryReason;
}

/** Why a request is or is not retried. */
export type RetryReason =
  | 'aborted'
  | 'attempts-spent'
  | 'success'
  | 'client-error'
  | 'verdict-retryable'
  | 'verdict-not-retryable'
  | 'retryable-status'
  | 'status-not-retried'
  | 'network-error'
  | 'not-idempotent'
  | 'retry-after-too-long'
  | 'budget-spent';

/** Options with every default filled in. */
export interface ResolvedRetryOptions {
  readonly attempts: number;
  readonly budgetMs: number;
  readonly maxRetryAfterMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly random: () => number;
}

/** Methods a client may send again without changing more than one send would (RFC 9110 §9.2.2). */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Methods made safe to repeat by an `Idempotency-Key`. */
const KEYED: ReadonlySet<string> = new Set(['POST', 'PATCH']);
/** The 4xx a client may retry: a timeout, too early, too many requests. */
const RETRYABLE_4XX: ReadonlySet<number> = new Set([408, 425, 429]);
/** The statuses retried without a verdict. */
const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 425, 429, 502, 503, 504]);
const MAX_ATTEMPTS = 10;
const MAX_MS = 2_147_483_647;
const SECONDS = /^\d{1,10}$/;
const HTTP_DATE_START = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)/i;

const cache = new WeakMap<RetryOptions, ResolvedRetryOptions>();
let defaults: ResolvedRetryOptions | undefined;

/** Validates retry options once: a `TypeError` names a bad one. */
export function resolveRetryOptions(options?: RetryOptions): ResolvedRetryOptions {
  if (options === undefined) return (defaults ??= resolve({}));
  if (typeof options !== 'object' || options === null) throw new TypeError('gateway-errors client: retry options must be an object.');
  let resolved = cache.get(options);
  if (resolved === undefined) {
    resolved = resolve(options);
    cache.set(options, resolved);
  }
  return resolved;
}

function resolve(options: RetryOptions): ResolvedRetryOptions {
  const { attempts = 3, budgetMs = 30_000, maxRetryAfterMs = 60_000, baseDelayMs = 200, maxDelayMs = 10_000, random = Math.random } = options;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > MAX_ATTEMPTS) fail('attempts', `a whole number from 1 to ${MAX_ATTEMPTS}`, attempts);
  for (const [name, value] of [
    ['budgetMs', budgetMs],
    ['maxRetryAfterMs', maxRetryAfterMs],
    ['baseDelayMs', baseDelayMs],
    ['maxDelayMs', maxDelayMs],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_MS) fail(name, `a number of milliseconds from 0 to ${MAX_MS}`, value);
  }
  if (typeof random !== 'function') fail('random', 'a function', random);
  return Object.freeze({ attempts, budgetMs, maxRetryAfterMs, baseDelayMs, maxDelayMs, random });
}

function fail(option: string, expected: string, actual: unknown): never {
  throw new TypeError(`gateway-errors client: option \`${option}\` must be ${expected}; got ${typeof actual === 'string' ? JSON.stringify(actual) : String(actual)}.`);
}

/**
 * Decides whether to send a request again after an attempt, and after how long. In order: never
 * once the caller's signal fired, or past `attempts`; never on a 4xx but 408, 425 and 429; a problem
 * with a boolean `retryable` decides; otherwise idempotent methods may retry 408, 425, 429, 502,
 * 503, 504 and network errors, and POST or PATCH only with an `Idempotency-Key`. `Retry-After` sets
 * the delay (a longer one than `maxRetryAfterMs` gives up); otherwise exponential backoff with full
 * jitter. No attempt starts past the time budget.
 *
 * @example
 * ```ts
 * const decision = decideRetry({ method: 'POST', attempt: 1, status: 503, problem, retryAfter: res.headers.get('retry-after') });
 * if (decision.retry) await sleep(decision.delayMs);
 * ```
 */
export function decideRetry(input: RetryInput, options?: RetryOptions): RetryDecision {
  const limits = resolveRetryOptions(options);
  input = snapshot(input);
  const verdict = verdictOf(input, limits);
  if (!verdict.retry) return verdict;
  const delayMs = delayOf(input, limits);
  if (delayMs === undefined) return stop('retry-after-too-long');
  const elapsed = typeof input.elapsedMs === 'number' && input.elapsedMs > 0 ? input.elapsedMs : 0;
  if (elapsed + delayMs > limits.budgetMs) return stop('budget-spent');
  return { retry: true, delayMs, reason: verdict.reason };
}

/**
 * Each member read once and kept only when of its type: a getter cannot answer one thing to one
 * check and another to the next, and an object cannot throw from a comparison.
 */
function snapshot(input: RetryInput): RetryInput {
  const { method, attempt, status, problem, retryAfter, date, error, idempotencyKey, signal, elapsedMs } = input;
  return {
    method: typeof method === 'string' ? method : '',
    attempt: typeof attempt === 'number' ? attempt : Number.NaN,
    status: typeof status === 'number' ? status : undefined,
    problem: typeof problem === 'object' && problem !== null ? problem : undefined,
    retryAfter,
    date,
    error,
    idempotencyKey: idempotencyKey === true,
    signal,
    elapsedMs: typeof elapsedMs === 'number' ? elapsedMs : undefined,
  };
}

function stop(reason: RetryReason): RetryDecision {
  return { retry: false, delayMs: 0, reason };
}

/** Whether the request may be sent again at all, before any delay is considered. */
function verdictOf(input: RetryInput, limits: ResolvedRetryOptions): RetryDecision {
  if (input.signal?.aborted === true) return stop('aborted');
  if (!(input.attempt >= 1 && input.attempt < limits.attempts)) return stop('attempts-spent');
  const { status } = input;
  const idempotent = isIdempotent(input.method, input.idempotencyKey === true);
  if (typeof status !== 'number') {
    if (isAbort(input.error)) return stop('aborted');
    return idempotent ? { retry: true, delayMs: 0, reason: 'network-error' } : stop('not-idempotent');
  }
  if (status < 400) return stop('success');
  if (status < 500 && !RETRYABLE_4XX.has(status)) return stop('client-error');
  const retryable = input.problem?.retryable;
  if (typeof retryable === 'boolean') return retryable ? { retry: true, delayMs: 0, reason: 'verdict-retryable' } : stop('verdict-not-retryable');
  if (!RETRYABLE_STATUS.has(status)) return stop('status-not-retried');
  return idempotent ? { retry: true, delayMs: 0, reason: 'retryable-status' } : stop('not-idempotent');
}

function isIdempotent(method: string, keyed: boolean): boolean {
  // A method that is not a string is unknown, hence not idempotent.
  const name = typeof method === 'string' ? method.toUpperCase() : '';
  return IDEMPOTENT.has(name) || (keyed && KEYED.has(name));
}

/** An abort of the caller, not a network failure: `AbortError` and `TimeoutError` of fetch and the DOM. */
function isAbort(error: unknown): boolean {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return name === 'AbortError';
}

/** The wait before the next attempt; `undefined` when the server asks for longer than the cap. */
function delayOf(input: RetryInput, limits: ResolvedRetryOptions): number | undefined {
  const asked = retryAfterMs(input.retryAfter, input.date) ?? problemRetryAfterMs(input.problem);
  if (asked !== undefined) return asked > limits.maxRetryAfterMs ? undefined : asked;
  const step = Math.min(limits.maxDelayMs, limits.baseDelayMs * 2 ** Math.max(0, input.attempt - 1));
  const random = limits.random();
  const jitter = typeof random === 'number' && random >= 0 && random < 1 ? random : 0;
  return Math.floor(jitter * step);
}

/**
 * A `Retry-After` in ms: delay-seconds, or an HTTP-date read against the answer's `Date` when it
 * has one (the two clocks may differ), else against this machine's. `undefined` when absent or invalid.
 */
export function retryAfterMs(value: string | null | undefined, date?: string | null): number | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const text = value.trim();
  if (SECONDS.test(text)) return Math.min(Number(text) * 1000, MAX_MS);
  // Every HTTP-date form starts with a day name; without this guard `Date.parse` reads "-1" or "1.5" as years.
  if (!HTTP_DATE_START.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  const now = typeof date === 'string' && date.length <= 64 ? Date.parse(date) : Number.NaN;
  return Math.min(Math.max(0, at - (Number.isNaN(now) ? Date.now() : now)), MAX_MS);
}

/** The body's `retryAfter` member (seconds), when the header is missing. */
function problemRetryAfterMs(problem: Problem | undefined): number | undefined {
  const seconds = problem?.retryAfter;
  return typeof seconds === 'number' && Number.isInteger(seconds) && seconds >= 0 && seconds <= 31_536_000 ? seconds * 1000 : undefined;
}
