import { describe, expect, it, vi } from 'vitest';
import { axiosRetryOptions, gotRetry, kyRetry, undiciRetry } from './integrations.js';

const problem = (retryable: boolean): string => JSON.stringify({ type: 'about:blank', status: 503, retryable });
const problemHeaders = (extra: Record<string, string> = {}): Headers => new Headers({ 'content-type': 'application/problem+json', ...extra });

/** An object whose every property read throws, as a hostile Proxy would. */
const hostile = new Proxy(
  {},
  {
    get() {
      throw new Error('no');
    },
  },
);

describe('kyRetry', () => {
  it('hands ky the delay of the decision it just made: the Retry-After', async () => {
    const retry = kyRetry({ maxRetryAfterMs: 5_000 });
    const request = new Request('http://x.test/orders', { method: 'POST' });
    const response = new Response(problem(true), { status: 503, headers: problemHeaders({ 'retry-after': '2' }) });
    await expect(retry.shouldRetry({ error: Object.assign(new Error('HTTPError'), { request, response }), retryCount: 1 })).resolves.toBe(true);
    expect(retry.delay(1)).toBe(2_000);
  });

  it('does not retry a network error whose request is unknown (ky 1), nor an unreadable error', async () => {
    const retry = kyRetry();
    await expect(retry.shouldRetry({ error: new TypeError('fetch failed'), retryCount: 1 })).resolves.toBe(false);
    await expect(retry.shouldRetry({ error: hostile as Error, retryCount: 1 })).resolves.toBe(false);
  });

  it('lets every method through ky and turns its own Retry-After rules and jitter off', () => {
    const retry = kyRetry({ attempts: 4 });
    expect(retry).toMatchObject({ limit: 3, afterStatusCodes: [], jitter: false, backoffLimit: Number.POSITIVE_INFINITY });
    expect(retry.methods).toEqual(expect.arrayContaining(['post', 'patch', 'get']));
  });
});

describe('gotRetry', () => {
  const gotError = (init: { method: string; status?: number; body?: string; headers?: Record<string, string> }): Error =>
    Object.assign(new Error('failed'), {
      options: { method: init.method, headers: {} },
      response: init.status === undefined ? undefined : { statusCode: init.status, headers: { 'content-type': 'application/problem+json', ...init.headers }, body: init.body },
    });

  it('answers 0 for a verdict that says no, the Retry-After for one that says yes', async () => {
    const retry = gotRetry({ maxRetryAfterMs: 5_000 });
    await expect(retry.calculateDelay({ attemptCount: 1, computedValue: 1_000, error: gotError({ method: 'GET', status: 502, body: problem(false) }) })).resolves.toBe(0);
    await expect(
      retry.calculateDelay({ attemptCount: 1, computedValue: 0, error: gotError({ method: 'POST', status: 503, body: problem(true), headers: { 'retry-after': '3' } }) }),
    ).resolves.toBe(3_000);
  });

  it('keeps got’s value for a retry a hook asked for, and stops on an unreadable error', async () => {
    const retry = gotRetry();
    await expect(retry.calculateDelay({ attemptCount: 1, computedValue: 1, error: Object.assign(new Error('retry'), { name: 'RetryError' }) })).resolves.toBe(1);
    await expect(retry.calculateDelay({ attemptCount: 1, computedValue: 1_000, error: Object.assign(new Error('x'), { options: hostile }) })).resolves.toBe(0);
  });

  it('never answers 0 for a retry without a wait: 0 would stop got', async () => {
    const retry = gotRetry({ random: () => 0 });
    await expect(retry.calculateDelay({ attemptCount: 1, computedValue: 0, error: gotError({ method: 'GET', status: 502 }) })).resolves.toBe(1);
  });
});

describe('axiosRetryOptions', () => {
  it('reads the problem from error.response.data and hands axios-retry the same decision’s delay', async () => {
    const retry = axiosRetryOptions({ maxRetryAfterMs: 5_000 });
    const error = {
      config: { method: 'post', headers: {}, 'axios-retry': { retryCount: 0, lastRequestTime: Date.now() } },
      response: { status: 503, headers: { 'content-type': 'application/problem+json', 'retry-after': '1' }, data: JSON.parse(problem(true)) as unknown },
    };
    await expect(retry.retryCondition(error)).resolves.toBe(true);
    expect(retry.retryDelay(1, error)).toBe(1_000);
  });

  it('does not retry an error without config, a cancelled request, or an unreadable error', async () => {
    const retry = axiosRetryOptions();
    await expect(retry.retryCondition(new Error('no config'))).resolves.toBe(false);
    await expect(retry.retryCondition({ code: 'ERR_CANCELED', config: { method: 'get', headers: {} } })).resolves.toBe(false);
    await expect(retry.retryCondition(hostile)).resolves.toBe(false);
    await expect(retry.retryCondition('thrown string')).resolves.toBe(false);
  });
});

describe('undiciRetry', () => {
  const failure = (status: number, headers: Record<string, string> = {}): Error => Object.assign(new Error('Request failed'), { statusCode: status, headers });

  it('refuses at once once the signal fired, and stops waiting when it fires', () => {
    vi.useFakeTimers();
    try {
      const { retry } = undiciRetry({ maxRetryAfterMs: 5_000 });
      const aborted = AbortSignal.abort();
      const refused = vi.fn();
      retry(failure(503), { state: { counter: 1 }, opts: { method: 'GET', signal: aborted } }, refused);
      expect(refused).toHaveBeenCalledWith(expect.any(Error));

      const controller = new AbortController();
      const waited = vi.fn();
      retry(failure(503, { 'retry-after': '2' }), { state: { counter: 1 }, opts: { method: 'GET', signal: controller.signal } }, waited);
      vi.advanceTimersByTime(1_000);
      expect(waited).not.toHaveBeenCalled();
      controller.abort();
      expect(waited).toHaveBeenCalledOnce();
      expect(waited.mock.calls[0]![0]).toBeInstanceOf(Error);
      vi.advanceTimersByTime(5_000);
      expect(waited).toHaveBeenCalledOnce();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reads undici’s flat header array for the Idempotency-Key', () => {
    vi.useFakeTimers();
    try {
      const { retry } = undiciRetry();
      const callback = vi.fn();
      retry(failure(503), { state: { counter: 1 }, opts: { method: 'POST', headers: ['Idempotency-Key', 'k1'] } }, callback);
      vi.runAllTimers();
      expect(callback).toHaveBeenCalledWith(null);
      const refused = vi.fn();
      retry(failure(503), { state: { counter: 1 }, opts: { method: 'POST', headers: ['x-other', 'v'] } }, refused);
      expect(refused).toHaveBeenCalledWith(expect.any(Error));
    } finally {
      vi.useRealTimers();
    }
  });
});
