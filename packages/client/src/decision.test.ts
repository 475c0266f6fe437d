import { describe, expect, it } from 'vitest';
import { decideRetry, resolveRetryOptions, retryAfterMs } from './decision.js';
import type { Problem } from './problem.js';

const problem = (extra: Record<string, unknown>): Problem => ({ type: 'about:blank', ...extra }) as Problem;

describe('retryAfterMs', () => {
  it('reads delay-seconds', () => {
    expect(retryAfterMs('0')).toBe(0);
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(' 120 ')).toBe(120_000);
    expect(retryAfterMs('9999999999')).toBe(2_147_483_647);
  });

  it('reads an HTTP-date against the answer’s `Date`, not this machine’s clock', () => {
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:30 GMT', 'Wed, 21 Oct 2015 07:28:00 GMT')).toBe(30_000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', 'Wed, 21 Oct 2015 07:28:30 GMT')).toBe(0);
  });

  it('reads an HTTP-date against this machine’s clock when the answer has no valid `Date`', () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    const ms = retryAfterMs(at, 'not a date');
    expect(ms).toBeGreaterThan(55_000);
    expect(ms).toBeLessThanOrEqual(60_000);
  });

  it.each([undefined, null, '', '-1', '1.5', 'soon', 'x'.repeat(65)])('ignores %j', (value) => {
    expect(retryAfterMs(value)).toBeUndefined();
  });
});

describe('decideRetry', () => {
  it('waits what Retry-After says', () => {
    expect(decideRetry({ method: 'GET', attempt: 1, status: 503, retryAfter: '2' })).toEqual({ retry: true, delayMs: 2000, reason: 'retryable-status' });
  });

  it('reads an HTTP-date Retry-After against the `date` header', () => {
    const decision = decideRetry({ method: 'GET', attempt: 1, status: 503, retryAfter: 'Wed, 21 Oct 2015 07:28:05 GMT', date: 'Wed, 21 Oct 2015 07:28:00 GMT' });
    expect(decision).toEqual({ retry: true, delayMs: 5000, reason: 'retryable-status' });
  });

  it('falls back to the problem’s `retryAfter` when the header is missing', () => {
    expect(decideRetry({ method: 'POST', attempt: 1, status: 503, problem: problem({ retryable: true, retryAfter: 3 }) })).toEqual({ retry: true, delayMs: 3000, reason: 'verdict-retryable' });
  });

  it('gives up at once when Retry-After is above the cap', () => {
    expect(decideRetry({ method: 'GET', attempt: 1, status: 503, retryAfter: '61' })).toEqual({ retry: false, delayMs: 0, reason: 'retry-after-too-long' });
    expect(decideRetry({ method: 'GET', attempt: 1, status: 503, retryAfter: '5' }, { maxRetryAfterMs: 4000 }).reason).toBe('retry-after-too-long');
  });

  it('gives up when the wait would overrun the budget', () => {
    expect(decideRetry({ method: 'GET', attempt: 1, status: 503, retryAfter: '2', elapsedMs: 29_000 })).toMatchObject({ retry: false, reason: 'budget-spent' });
  });

  it('obeys the verdict over the method', () => {
    expect(decideRetry({ method: 'POST', attempt: 1, status: 502, problem: problem({ retryable: true }) }, { random: () => 0 }).reason).toBe('verdict-retryable');
    expect(decideRetry({ method: 'GET', attempt: 1, status: 502, problem: problem({ retryable: false }) }).reason).toBe('verdict-not-retryable');
    expect(decideRetry({ method: 'GET', attempt: 1, status: 502, problem: problem({ retryable: 'true' }) }, { random: () => 0 }).reason).toBe('retryable-status');
  });

  it('retries a POST without a verdict only with an idempotency key', () => {
    expect(decideRetry({ method: 'POST', attempt: 1, status: 502 }).reason).toBe('not-idempotent');
    expect(decideRetry({ method: 'post', attempt: 1, status: 502, idempotencyKey: true }, { random: () => 0 }).reason).toBe('retryable-status');
    expect(decideRetry({ method: 'POST', attempt: 1 }).reason).toBe('not-idempotent');
    expect(decideRetry({ method: 42 as unknown as string, attempt: 1, status: 502 }).reason).toBe('not-idempotent');
  });

  it('does not retry an abort as a network error', () => {
    expect(decideRetry({ method: 'GET', attempt: 1, error: new DOMException('aborted', 'AbortError') }).reason).toBe('aborted');
    expect(decideRetry({ method: 'GET', attempt: 1, error: new TypeError('fetch failed') }, { random: () => 0 }).reason).toBe('network-error');
  });

  it('backs off with full jitter below base·2^(n−1), capped by maxDelayMs', () => {
    const almostOne = (): number => 0.999_999;
    expect(decideRetry({ method: 'GET', attempt: 1, status: 503 }, { baseDelayMs: 100, random: almostOne }).delayMs).toBe(99);
    expect(decideRetry({ method: 'GET', attempt: 2, status: 503 }, { baseDelayMs: 100, random: almostOne }).delayMs).toBe(199);
    expect(decideRetry({ method: 'GET', attempt: 9, status: 503 }, { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000, random: almostOne }).delayMs).toBe(999);
    expect(decideRetry({ method: 'GET', attempt: 1, status: 503 }, { random: () => Number.NaN }).delayMs).toBe(0);
    expect(decideRetry({ method: 'GET', attempt: 1, status: 503 }, { random: () => 7 }).delayMs).toBe(0);
  });
});

describe('resolveRetryOptions', () => {
  it('fills in the defaults', () => {
    expect(resolveRetryOptions()).toMatchObject({ attempts: 3, budgetMs: 30_000, maxRetryAfterMs: 60_000, baseDelayMs: 200, maxDelayMs: 10_000 });
  });

  it.each([
    [{ attempts: 0 }, /`attempts`/],
    [{ attempts: 11 }, /`attempts`/],
    [{ attempts: 2.5 }, /`attempts`/],
    [{ attempts: '3' }, /`attempts` must be a whole number from 1 to 10; got "3"/],
    [{ budgetMs: -1 }, /`budgetMs`/],
    [{ budgetMs: Number.NaN }, /`budgetMs`/],
    [{ maxRetryAfterMs: Number.POSITIVE_INFINITY }, /`maxRetryAfterMs`/],
    [{ baseDelayMs: 2 ** 31 }, /`baseDelayMs`/],
    [{ maxDelayMs: '10' }, /`maxDelayMs`/],
    [{ random: 0.5 }, /`random` must be a function/],
  ])('throws a TypeError naming the bad option in %j', (options, message) => {
    expect(() => resolveRetryOptions(options as never)).toThrow(TypeError);
    expect(() => resolveRetryOptions(options as never)).toThrow(message);
    expect(() => decideRetry({ method: 'GET', attempt: 1, status: 503 }, options as never)).toThrow(TypeError);
  });

  it.each([null, 'x', 3])('throws a TypeError for options %j', (options) => {
    expect(() => resolveRetryOptions(options as never)).toThrow(TypeError);
  });
});
