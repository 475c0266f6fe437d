/**
 * `fetch` that obeys the server's retry verdict ({@link decideRetry}), with fetch's own contract:
 * it resolves to the last `Response` whatever its status, and rejects only when the last attempt
 * got no answer or the caller's signal fired.
 */
import { decideRetry, resolveRetryOptions } from './decision.js';
import type { RetryDecision, RetryOptions } from './decision.js';
import { isProblemType, parseProblem } from './problem.js';
import type { Problem } from './problem.js';

/** What `onRetry` hears before each wait. */
export interface RetryEvent {
  /** The attempt that just ended (1 after the first). */
  readonly attempt: number;
  /** The wait before the next attempt, in ms. */
  readonly delayMs: number;
  readonly reason: RetryDecision['reason'];
  /** The answer of the attempt, when it got one. Its body was cancelled. */
  readonly response?: Response | undefined;
  readonly problem?: Problem | undefined;
  /** Why the attempt got no answer. */
  readonly error?: unknown;
}

/** `init.retry` of {@link fetchWithRetry}. */
export interface FetchRetryOptions extends RetryOptions {
  /** Called before each wait; a throw is ignored. */
  readonly onRetry?: ((event: RetryEvent) => void) | undefined;
  /**
   * Adds an `Idempotency-Key` (a random UUID, the same on every attempt) to a POST or PATCH that has
   * none, so that it may be retried: only for servers that honour the header. Default `false`.
   */
  readonly idempotencyKey?: boolean | undefined;
  /** The fetch to call. Default `globalThis.fetch`. */
  readonly fetch?: ((input: RequestInfo | URL, init?: RequestInit) => Promise<Response>) | undefined;
}

/** `fetch`'s `init`, and `retry`. */
export interface FetchWithRetryInit extends RequestInit {
  readonly retry?: FetchRetryOptions | undefined;
}

/**
 * `fetch`, sending the request again when the decision says it is safe and worth it: at most
 * `attempts` times in all (default 3), within `budgetMs`, after `Retry-After` or a jittered backoff.
 * A body that can be sent again (a string, bytes, `URLSearchParams`, `FormData`, a `Blob`) may be
 * retried; a stream body, or a `Request` with a body, never is.
 *
 * @example
 * ```ts
 * const response = await fetchWithRetry('https://api.example.com/orders', {
 *   method: 'POST',
 *   body: JSON.stringify(order),
 *   headers: { 'content-type': 'application/json' },
 *   retry: { idempotencyKey: true, onRetry: ({ attempt, delayMs, reason }) => log.info({ attempt, delayMs, reason }) },
 * });
 * ```
 */
export async function fetchWithRetry(input: RequestInfo | URL, init: FetchWithRetryInit = {}): Promise<Response> {
  const { retry = {}, ...requestInit } = init;
  const { onRetry, idempotencyKey = false, fetch: fetchImpl = globalThis.fetch, ...options } = retry;
  const limits = resolveRetryOptions(options);
  if (typeof fetchImpl !== 'function') throw new TypeError('gateway-errors client: no fetch to call: pass `retry.fetch`.');
  const request = input instanceof Request ? input : undefined;
  const method = (requestInit.method ?? request?.method ?? 'GET').toUpperCase();
  const headers = new Headers(requestInit.headers ?? request?.headers);
  if (idempotencyKey && (method === 'POST' || method === 'PATCH') && !headers.has('idempotency-key')) headers.set('idempotency-key', crypto.randomUUID());
  const signal = requestInit.signal ?? request?.signal ?? undefined;
  const replayable = canReplay(requestInit.body, request);
  const attempts = replayable ? limits.attempts : 1;
  const started = Date.now();

  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await fetchImpl(input, { ...requestInit, method, headers });
    } catch (error) {
      const decision = decideRetry(
        { method, attempt: attempt < attempts ? attempt : limits.attempts, error, idempotencyKey: headers.has('idempotency-key'), signal, elapsedMs: Date.now() - started },
        limits,
      );
      if (!decision.retry) throw error;
      notify(onRetry, { attempt, delayMs: decision.delayMs, reason: decision.reason, error });
      await sleep(decision.delayMs, signal);
      continue;
    }
    if (response.status < 400) return response;
    const problem = isProblemType(response.headers.get('content-type')) ? await parseProblem(response) : undefined;
    const decision = decideRetry(
      {
        method,
        attempt: attempt < attempts ? attempt : limits.attempts,
        status: response.status,
        problem,
        retryAfter: response.headers.get('retry-after'),
        date: response.headers.get('date'),
        idempotencyKey: headers.has('idempotency-key'),
        signal,
        elapsedMs: Date.now() - started,
      },
      limits,
    );
    if (decision.reason === 'aborted' && signal !== undefined) {
      // The signal fired while the answer was read: its body is unusable. Reject as fetch does.
      response.body?.cancel().catch(ignore);
      throw reasonOf(signal);
    }
    if (!decision.retry) return response;
    // Nobody reads this answer: free its connection. Not awaited: the body may be one branch of a clone,
    // whose cancel settles only when the other branch is cancelled too.
    response.body?.cancel().catch(ignore);
    notify(onRetry, { attempt, delayMs: decision.delayMs, reason: decision.reason, response, problem });
    await sleep(decision.delayMs, signal);
  }
}

/** Whether the request's body can be sent again: none, or one fetch can read twice. */
function canReplay(body: RequestInit['body'], request: Request | undefined): boolean {
  if (body === undefined || body === null) return request?.body === null || request === undefined;
  return (
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof URLSearchParams ||
    (typeof FormData !== 'undefined' && body instanceof FormData) ||
    (typeof Blob !== 'undefined' && body instanceof Blob)
  );
}

function notify(onRetry: FetchRetryOptions['onRetry'], event: RetryEvent): void {
  if (typeof onRetry !== 'function') return;
  try {
    onRetry(event);
  } catch {
    // A hook must not change what the request does.
  }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it fires. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      // As fetch does: the signal's reason, whatever it is.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(reasonOf(signal));
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(reasonOf(signal!));
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

function reasonOf(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function ignore(): void {}
