import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideRetry, resolveRetryOptions, retryAfterMs } from './decision.js';
import type { RetryInput, RetryOptions } from './decision.js';
import type { Problem } from './problem.js';

const NON_IDEMPOTENT = fc.oneof(fc.constantFrom('POST', 'PATCH', 'post', 'Patch', 'CONNECT', 'PROPFIND', 'GET ', ''), fc.string().filter((m) => !['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'].includes(m.toUpperCase())));
const METHOD = fc.oneof(fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'POST', 'PATCH'), fc.string());
const STATUS = fc.oneof(fc.constantFrom(200, 400, 404, 408, 409, 425, 429, 500, 502, 503, 504), fc.integer({ min: 100, max: 599 }), fc.constant(Number.NaN), fc.constant(undefined));
const RETRY_AFTER = fc.oneof(fc.constant(undefined), fc.constant(null), fc.nat({ max: 1_000_000 }).map(String), fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()), fc.string(), fc.constantFrom('-1', '1e3', ' 5 ', '99999999999', 'Infinity', '0x10'));
const DATE = fc.oneof(fc.constant(undefined), fc.constant(null), fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()), fc.string());
const VERDICT = fc.constantFrom<unknown>(undefined, true, false, 'true', 1, null);
const PROBLEM: fc.Arbitrary<Problem | undefined> = fc.option(
  fc.record({ retryable: VERDICT, retryAfter: fc.oneof(fc.constant(undefined), fc.integer(), fc.double(), fc.string()) }).map((extra) => ({ type: 'about:blank', ...extra }) as Problem),
  { nil: undefined },
);
const OPTIONS: fc.Arbitrary<RetryOptions> = fc.record(
  {
    attempts: fc.integer({ min: 1, max: 10 }),
    budgetMs: fc.integer({ min: 0, max: 120_000 }),
    maxRetryAfterMs: fc.integer({ min: 0, max: 120_000 }),
    baseDelayMs: fc.integer({ min: 0, max: 5_000 }),
    maxDelayMs: fc.integer({ min: 0, max: 60_000 }),
    random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }).map((r) => () => r),
  },
  { requiredKeys: [] },
);
const INPUT: fc.Arbitrary<RetryInput> = fc.record(
  {
    method: METHOD,
    attempt: fc.oneof(fc.integer({ min: -2, max: 12 }), fc.constant(Number.NaN), fc.constant(Number.MAX_SAFE_INTEGER)),
    status: STATUS,
    problem: PROBLEM,
    retryAfter: RETRY_AFTER,
    date: DATE,
    error: fc.constantFrom<unknown>(undefined, new TypeError('fetch failed'), null, 'ECONNREFUSED'),
    idempotencyKey: fc.boolean(),
    elapsedMs: fc.oneof(fc.integer({ min: 0, max: 200_000 }), fc.constant(Number.NaN), fc.constant(-1), fc.constant(Number.POSITIVE_INFINITY)),
  },
  { requiredKeys: ['method', 'attempt'] },
);

function limitsOf(options: RetryOptions) {
  return resolveRetryOptions(options);
}

describe('decideRetry: properties', () => {
  it('never retries once the signal aborted', () => {
    fc.assert(
      fc.property(INPUT, OPTIONS, (input, options) => {
        const controller = new AbortController();
        controller.abort();
        const decision = decideRetry({ ...input, signal: controller.signal }, options);
        expect(decision).toEqual({ retry: false, delayMs: 0, reason: 'aborted' });
      }),
    );
  });

  it('never retries when attempt >= attempts', () => {
    fc.assert(
      fc.property(INPUT, OPTIONS, fc.nat({ max: 5 }), (input, options, extra) => {
        const attempt = limitsOf(options).attempts + extra;
        expect(decideRetry({ ...input, attempt }, options).retry).toBe(false);
      }),
    );
  });

  it('never retries a non-idempotent method without a `retryable: true` verdict or an idempotency key', () => {
    fc.assert(
      fc.property(INPUT, OPTIONS, NON_IDEMPOTENT, (input, options, method) => {
        const keyed = ['POST', 'PATCH'].includes(method.toUpperCase()) ? false : input.idempotencyKey;
        const decision = decideRetry({ ...input, method, idempotencyKey: keyed }, options);
        if (decision.retry) expect(input.status !== undefined && input.problem?.retryable === true).toBe(true);
      }),
    );
  });

  it('never retries after a `retryable: false` verdict', () => {
    fc.assert(
      fc.property(INPUT, OPTIONS, (input, options) => {
        const problem = { type: 'about:blank', ...input.problem, retryable: false } as Problem;
        const status = input.status ?? 502;
        expect(decideRetry({ ...input, status, problem }, options).retry).toBe(false);
      }),
    );
  });

  it('keeps every delay within [0, maxRetryAfterMs] for Retry-After and within [0, min(maxDelayMs, base·2^(n−1))] for backoff', () => {
    fc.assert(
      fc.property(INPUT, OPTIONS, (input, options) => {
        const decision = decideRetry(input, options);
        const limits = limitsOf(options);
        expect(decision.delayMs).toBeGreaterThanOrEqual(0);
        expect(Number.isFinite(decision.delayMs)).toBe(true);
        if (!decision.retry) {
          expect(decision.delayMs).toBe(0);
          return;
        }
        const asked = retryAfterMs(input.retryAfter, input.date);
        const bodyAsked = typeof input.problem?.retryAfter === 'number' && Number.isInteger(input.problem.retryAfter) && input.problem.retryAfter >= 0;
        if (asked !== undefined || bodyAsked) expect(decision.delayMs).toBeLessThanOrEqual(limits.maxRetryAfterMs);
        else expect(decision.delayMs).toBeLessThanOrEqual(Math.min(limits.maxDelayMs, limits.baseDelayMs * 2 ** (input.attempt - 1)));
      }),
    );
  });

  it('never lets elapsed + delay exceed the budget when retrying', () => {
    fc.assert(
      fc.property(INPUT, OPTIONS, (input, options) => {
        const decision = decideRetry(input, options);
        const elapsed = typeof input.elapsedMs === 'number' && input.elapsedMs > 0 ? input.elapsedMs : 0;
        if (decision.retry) expect(elapsed + decision.delayMs).toBeLessThanOrEqual(limitsOf(options).budgetMs);
      }),
    );
  });

  it('never retries a 4xx other than 408, 425 and 429, whatever the verdict', () => {
    fc.assert(
      fc.property(INPUT, OPTIONS, fc.integer({ min: 400, max: 499 }).filter((s) => ![408, 425, 429].includes(s)), (input, options, status) => {
        const problem = { type: 'about:blank', retryable: true } as Problem;
        expect(decideRetry({ ...input, status, problem, method: 'GET', idempotencyKey: true }, options).retry).toBe(false);
        expect(decideRetry({ ...input, status, problem, method: 'GET', attempt: 1, idempotencyKey: true }, { ...options, attempts: 3 }).reason).toBe('client-error');
      }),
    );
  });

  it('never throws on hostile input: random strings, huge numbers, NaN, getters that change their answer', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything(), (method, attempt, status, retryAfter, date, other) => {
        let reads = 0;
        const shifty = {
          get method() {
            return reads++ % 2 === 0 ? 'GET' : method;
          },
          get attempt() {
            return reads++ % 2 === 0 ? 1 : attempt;
          },
          status,
          retryAfter,
          date,
          get problem() {
            return reads++ % 2 === 0 ? { type: 'about:blank', retryable: true } : { type: 'about:blank', retryable: false, retryAfter: 1e308 };
          },
          elapsedMs: attempt,
          error: other,
          idempotencyKey: other,
          signal: other,
        } as unknown as RetryInput;
        const decision = decideRetry(shifty);
        const wild = decideRetry({ method, attempt, status, retryAfter, date, problem: other, elapsedMs: other, error: other, signal: other } as unknown as RetryInput);
        expect(Number.isFinite(wild.delayMs) && wild.delayMs >= 0).toBe(true);
        expect(typeof decision.retry).toBe('boolean');
        expect(Number.isFinite(decision.delayMs) && decision.delayMs >= 0).toBe(true);
        expect(() => retryAfterMs(retryAfter as string, date as string)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it('retryAfterMs never answers a negative, non-finite or out-of-timer-range value', () => {
    fc.assert(
      fc.property(RETRY_AFTER, DATE, (value, date) => {
        const ms = retryAfterMs(value, date);
        if (ms !== undefined) {
          expect(Number.isFinite(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(0);
          expect(ms).toBeLessThanOrEqual(2_147_483_647);
        }
      }),
    );
  });
});
