/**
 * @module
 * Helpers for the calling side: run an upstream call under a deadline and tag
 * what it throws with the upstream's name, so the error handler answers with
 * the right status, code and retry guidance. Web APIs only.
 */
import { classify } from './classify.js';
import { BadGatewayError, GatewayTimeoutError, ServiceUnavailableError, isUpstreamError } from './errors.js';
import type { BadGatewayCode } from './errors.js';
import { currentHop, forwardHeaders, upstreamRequestId, upstreamTimeoutOf } from './hop.js';
import type { Hop } from './hop.js';
import { parseRetryAfter } from './retry-after.js';

/**
 * A circuit breaker, or its settings, so that an open breaker's 503 carries a
 * `Retry-After` equal to its reset timeout: an opossum `CircuitBreaker`
 * (`options.resetTimeout`), or `{ resetTimeout }` / `{ halfOpenAfter }` in milliseconds.
 */
export type BreakerLike =
  | { readonly options: { readonly resetTimeout?: number | undefined } }
  | { readonly resetTimeout: number }
  | { readonly halfOpenAfter: number };

/** Options of {@link withUpstream}. */
export interface WithUpstreamOptions {
  /**
   * Deadline for the whole call, in milliseconds. When it passes, the call fails with a 504.
   * Default: the conventions' `upstreamTimeoutMs` (10,000 when none are at hand). `Infinity`: none.
   */
  readonly timeoutMs?: number | undefined;
  /**
   * The request being handled: its ID and trace context are passed on (see {@link forwardHeaders}),
   * its conventions give the default deadline. Default: the current request's, where an adapter's
   * request-ID middleware set it (Node.js); none elsewhere.
   */
  readonly hop?: Hop | undefined;
  /** A caller's signal (for example the incoming request's); its abort is passed on untouched. */
  readonly signal?: AbortSignal | undefined;
  /** The breaker that guards the call, for the `Retry-After` of its open state. */
  readonly breaker?: BreakerLike | undefined;
}

/** What {@link withUpstream} hands the call besides its signal. */
export interface UpstreamCallContext {
  /** Headers to send to the upstream: the request ID and the trace context of the request being handled. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Runs one upstream call with an `AbortSignal` deadline. Whatever it throws
 * that is an upstream failure comes out as a {@link BadGatewayError},
 * {@link ServiceUnavailableError} or {@link GatewayTimeoutError} naming the
 * upstream, with the original error as `cause`. A deadline that fires is a 504
 * even with clients that report it as a plain cancellation (axios, node-fetch),
 * and even with clients that ignore or lose the signal: the call is given up a
 * macrotask after the deadline (or the caller's abort) if it has not settled.
 * Programming errors and the caller's own aborts are rethrown unchanged.
 *
 * @example
 * ```ts
 * const user = await withUpstream('users', (signal, { headers }) => axios.get(url, { signal, headers }), { timeoutMs: 2000 });
 * ```
 */
export async function withUpstream<TResult>(
  name: string,
  call: (signal: AbortSignal, context: UpstreamCallContext) => TResult | PromiseLike<TResult>,
  options: WithUpstreamOptions = {},
): Promise<TResult> {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('gateway-errors: withUpstream needs an upstream name');
  const { timeoutMs: given, signal: parent, breaker, hop = currentHop() } = options;
  if (given !== undefined && !(given > 0 && (Number.isFinite(given) || given === Infinity))) {
    throw new TypeError(`gateway-errors: timeoutMs must be a positive number of milliseconds or Infinity; got ${String(given)}`);
  }
  const timeoutMs = given ?? upstreamTimeoutOf(hop);
  const deadline = timeoutMs === Infinity ? undefined : AbortSignal.timeout(timeoutMs);
  const signal =
    deadline === undefined ? (parent ?? new AbortController().signal) : parent === undefined ? deadline : AbortSignal.any([parent, deadline]);
  try {
    return await settleBy(call(signal, { headers: forwardHeaders(hop) }), deadline, parent);
  } catch (error) {
    throw tag(error, name, { deadline, parent, breaker });
  }
}

/**
 * The call's result, or the deadline's or the caller's abort, whichever comes first: the deadline holds
 * even for a client that loses the signal (ky, or any `fetch(new Request(url, { signal }))`, whose abort
 * undici drops once the first Request is garbage-collected) or takes none (pg, Redis clients). A client
 * that obeys the signal settles in the same turn and keeps its own error; one that has not settled a
 * macrotask after the abort is given up, and its settling, later, ignored.
 */
function settleBy<T>(result: T | PromiseLike<T>, deadline: AbortSignal | undefined, parent: AbortSignal | undefined): T | PromiseLike<T> {
  if (deadline === undefined && parent === undefined) return result;
  // Read once: a thenable's `then` is what `await` would have called.
  const then = typeof result === 'object' || typeof result === 'function' ? (result as { then?: unknown } | null)?.then : undefined;
  if (typeof then !== 'function') return result;
  return new Promise<T>((resolve, reject) => {
    let grace: ReturnType<typeof setTimeout> | undefined;
    const settle = (): void => {
      if (grace !== undefined) clearTimeout(grace);
      deadline?.removeEventListener('abort', aborted);
      parent?.removeEventListener('abort', aborted);
    };
    const giveUp = (): void => {
      settle();
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the signal's reason, as a client that obeys it rejects
      reject(parent?.aborted === true ? parent.reason : deadline?.reason);
    };
    function aborted(): void {
      grace ??= setTimeout(giveUp, 0);
    }
    (then as PromiseLike<T>['then']).call(
      result,
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the call's own rejection, unchanged
        reject(error);
      },
    );
    if (parent?.aborted === true || deadline?.aborted === true) aborted();
    else {
      deadline?.addEventListener('abort', aborted, { once: true });
      parent?.addEventListener('abort', aborted, { once: true });
    }
  });
}

/** Options of {@link fetchUpstream}: `RequestInit` plus a deadline and the `fetch` to use. */
export interface FetchUpstreamInit extends RequestInit {
  /** As {@link WithUpstreamOptions.timeoutMs}. */
  readonly timeoutMs?: number | undefined;
  /** As {@link WithUpstreamOptions.hop}: its request ID and trace context are sent unless `headers` already set them. */
  readonly hop?: Hop | undefined;
  readonly breaker?: BreakerLike | undefined;
  /** The fetch implementation. Default `globalThis.fetch`. */
  readonly fetch?: ((input: RequestInfo | URL, init?: RequestInit) => Promise<Response>) | undefined;
}

/**
 * `fetch` for upstream calls: a 5xx or 429 answer becomes the matching error
 * (503 for 503/429 with the upstream's `Retry-After`, 504 for 504, else 502),
 * network failures and the deadline are classified as {@link withUpstream} does.
 * Other responses, 4xx included, are returned for the caller to handle.
 *
 * @example
 * ```ts
 * const res = await fetchUpstream('payments', `${PAYMENTS_URL}/charges`, { method: 'POST', body, timeoutMs: 3000 });
 * ```
 */
export function fetchUpstream(name: string, input: RequestInfo | URL, init: FetchUpstreamInit = {}): Promise<Response> {
  const { timeoutMs, breaker, hop, fetch: fetchImpl = globalThis.fetch, ...requestInit } = init;
  return withUpstream(
    name,
    async (signal, { headers: forwarded }) => {
      const headers = withForwarded(requestInit.headers ?? (isRequest(input) ? input.headers : undefined), forwarded);
      const response = await fetchImpl(input, headers === undefined ? { ...requestInit, signal } : { ...requestInit, headers, signal });
      if (response.status < 500 && response.status !== 429) return response;
      // Free the connection: nobody will read this body.
      response.body?.cancel().catch(ignore);
      throw errorForResponse(name, response, input);
    },
    { timeoutMs, signal: requestInit.signal ?? undefined, breaker, hop },
  );
}

/** The caller's headers plus the forwarded ones it did not set itself; `undefined` when there is nothing to add. */
function withForwarded(given: HeadersInit | undefined, forwarded: Readonly<Record<string, string>>): Headers | undefined {
  const names = Object.keys(forwarded);
  if (names.length === 0) return undefined;
  const headers = new Headers(given);
  for (const header of names) if (!headers.has(header)) headers.set(header, forwarded[header]!);
  return headers;
}

function isRequest(input: RequestInfo | URL): input is Request {
  return typeof Request === 'function' && input instanceof Request;
}

function errorForResponse(name: string, response: Response, input: RequestInfo | URL): Error {
  const upstreamStatus = response.status;
  const url = response.url !== '' ? response.url : typeof input === 'string' ? input : 'url' in input ? input.url : input.href;
  const answered = { upstream: name, upstreamStatus, url, upstreamRequestId: upstreamRequestId(response.headers) };
  if (upstreamStatus === 503 || upstreamStatus === 429) {
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'), { max: 86_400 });
    return new ServiceUnavailableError({ ...answered, retryAfter });
  }
  if (upstreamStatus === 504) return new GatewayTimeoutError(answered);
  return new BadGatewayError({ ...answered, code: 'UPSTREAM_ERROR_STATUS' });
}

interface TagContext {
  readonly deadline: AbortSignal | undefined;
  readonly parent: AbortSignal | undefined;
  readonly breaker: BreakerLike | undefined;
}

function tag(error: unknown, upstream: string, { deadline, parent, breaker }: TagContext): unknown {
  if (parent?.aborted === true) return error;
  if (isUpstreamError(error) && error.upstream !== undefined) return error;
  if (deadline?.aborted === true) return new GatewayTimeoutError({ upstream, cause: error });
  const classification = classify(error);
  switch (classification.status) {
    case 502:
      return new BadGatewayError({
        upstream,
        cause: error,
        code: classification.code as BadGatewayCode,
        upstreamStatus: classification.upstreamStatus,
      });
    case 503:
      return new ServiceUnavailableError({
        upstream,
        cause: error,
        retryAfter: classification.reachedUpstream ? undefined : resetSeconds(breaker),
      });
    case 504:
      return new GatewayTimeoutError({ upstream, cause: error });
    default:
      return error;
  }
}

function resetSeconds(breaker: BreakerLike | undefined): number | undefined {
  if (breaker === undefined) return undefined;
  const ms =
    'options' in breaker ? breaker.options.resetTimeout : 'resetTimeout' in breaker ? breaker.resetTimeout : breaker.halfOpenAfter;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? Math.ceil(ms / 1000) : undefined;
}

function ignore(): void {}
