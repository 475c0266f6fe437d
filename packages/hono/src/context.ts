/**
 * What the adapter reads from and keeps on a Hono context: the request's headers, the conventions the
 * request-ID middleware runs with, the request's hop to an upstream, and whether a failure is only the
 * client hanging up. Web APIs only.
 */
import { defineConventions, hopOf } from '@gateway-errors/core';
import type { Conventions, HeadersLike, Hop } from '@gateway-errors/core';
import type { Context } from 'hono';

/**
 * The context variable under which the request-ID middleware leaves its conventions. A `Symbol.for`
 * key: every copy of this package (ESM, CommonJS, the Node.js entry) finds the same one.
 */
const CONVENTIONS: unique symbol = Symbol.for('gateway-errors.hono.conventions') as never;

/** How deep a cause chain is searched for the client's abort. */
const MAX_CAUSES = 8;

let defaults: Conventions | undefined;

/** The context's variables, read and written under keys Hono's typed `get`/`set` do not know. */
interface Variables {
  get(key: unknown): unknown;
  set(key: unknown, value: unknown): void;
}

/** @internal Remembers the conventions of the request-ID middleware for this request. */
export function keepConventions(c: Context, conventions: Conventions): void {
  (c as unknown as Variables).set(CONVENTIONS, conventions);
}

/** @internal The conventions of the request-ID middleware, else the defaults. */
export function conventionsOf(c: Context): Conventions {
  const kept = (c as unknown as Variables).get(CONVENTIONS);
  return typeof kept === 'object' && kept !== null ? (kept as Conventions) : (defaults ??= defineConventions());
}

/**
 * The request's hop to an upstream: the request ID `requestId()` resolved, the `traceparent` the request
 * came with (when valid) and the middleware's conventions. For `withUpstream`, `fetchUpstream` and
 * `forwardHeaders` on runtimes without AsyncLocalStorage.
 *
 * @example
 * ```ts
 * const res = await fetchUpstream('pricing', url, { hop: requestHop(c) });
 * ```
 */
export function requestHop(c: Context): Hop {
  const id: unknown = c.get('requestId');
  // An empty ID is never forwarded: without the request-ID middleware there is none to pass on.
  return hopOf(headersOf(c), typeof id === 'string' ? id : '', conventionsOf(c));
}

/**
 * @internal The request's headers. On `@hono/node-server` the Node.js request is at hand as
 * `c.env.incoming`: its header record is read as it is, rather than converted to a Web `Headers`.
 */
export function headersOf(c: Context): HeadersLike {
  const incoming = (c.env as { incoming?: { headers?: unknown; method?: unknown } } | undefined)?.incoming;
  const headers = incoming?.headers;
  return typeof headers === 'object' && headers !== null && typeof incoming?.method === 'string' ? (headers as HeadersLike) : c.req.raw.headers;
}

/**
 * @internal What to answer for `error`: an abort error (a 499 `CLIENT_CLOSED_REQUEST`, not logged) when
 * the error is the client's hang-up, that is the reason of the request's aborted signal or caused by it;
 * else `error` itself. `@hono/node-server` aborts the signal with a string or a plain `Error`, which would
 * otherwise be a logged 500.
 */
export function unlessClientClosed(c: Context, error: unknown): unknown {
  if (!clientMayBeGone(c)) return error;
  let signal: AbortSignal;
  try {
    signal = c.req.raw.signal;
  } catch {
    return error;
  }
  return isClientAbort(signal, error) ? clientClosed(error) : error;
}

/** @internal Whether `error` is the reason `signal` was aborted with, or caused by it. */
export function isClientAbort(signal: AbortSignal, error: unknown): boolean {
  return signal.aborted && causedBy(error, signal.reason);
}

/** @internal The error a call cut short by the client's hang-up stands for: an `AbortError`. */
export function clientClosed(cause: unknown): Error {
  const error = new Error('The client closed the request', { cause });
  error.name = 'AbortError';
  return error;
}

/**
 * On `@hono/node-server` reading `c.req.raw.signal` builds a whole Web `Request`: look at the Node.js
 * response first, which is destroyed once the client has gone.
 */
function clientMayBeGone(c: Context): boolean {
  const env = c.env as { incoming?: unknown; outgoing?: { destroyed?: unknown } } | undefined;
  const outgoing = env?.outgoing;
  if (typeof env?.incoming !== 'object' || typeof outgoing !== 'object' || outgoing === null) return true;
  return outgoing.destroyed === true;
}

function causedBy(error: unknown, reason: unknown): boolean {
  if (reason === undefined || reason === null) return false;
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSES; depth++) {
    if (current === reason) return true;
    if (typeof current !== 'object' || current === null) return false;
    try {
      current = (current as { cause?: unknown }).cause;
    } catch {
      return false;
    }
  }
  return false;
}
