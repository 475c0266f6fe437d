/**
 * `proxy()` from `hono/proxy` with a deadline, the request's hop headers and the core's classification
 * of what goes wrong. Web APIs only.
 */
import { fetchUpstream } from '@gateway-errors/core/upstream';
import type { Context } from 'hono';
import { proxy } from 'hono/proxy';
import { clientClosed, requestHop, isClientAbort } from './context.js';

/** The options of Hono's `proxy()`: `raw`, `headers`, `customFetch`, `strictConnectionProcessing` and `RequestInit`. */
export type ProxyInit = NonNullable<Parameters<typeof proxy>[1]>;

/** Options of {@link proxyUpstream}: Hono's `proxy()` options, the upstream's name and a deadline. */
export interface ProxyUpstreamInit extends ProxyInit {
  /** The upstream's logical name, such as `"orders"`: it names the upstream in logs and development bodies. Never a host or URL. */
  readonly upstream: string;
  /**
   * Deadline of the whole exchange, body included, in milliseconds: past it the call fails with a 504
   * (or, once the answer has started, the connection is cut). Default: the conventions' `upstreamTimeoutMs`
   * (those of `requestId()`, else 10,000). `Infinity`: none.
   */
  readonly timeoutMs?: number | undefined;
}

/**
 * Proxies the request to an upstream with Hono's `proxy()`, with a deadline
 * (`AbortSignal.timeout`) combined with the client's own signal, and this
 * request's ID and `traceparent` set on the upstream request. What the upstream
 * answers below 500 (other than 429) comes back as it is; every failure is
 * thrown for `app.onError(gatewayErrors())` to answer:
 *
 * - refused, reset, garbage, TLS failures: 502 (`UPSTREAM_UNREACHABLE`,
 *   `UPSTREAM_CONNECTION_LOST`, `UPSTREAM_BAD_RESPONSE`, `UPSTREAM_TLS_FAILURE`);
 * - no answer within the deadline: 504 `UPSTREAM_TIMEOUT`;
 * - an upstream 5xx or 429: the core's problem (503 with the upstream's
 *   `Retry-After` for 503 and 429, 504 for 504, else 502 `UPSTREAM_ERROR_STATUS`),
 *   never the upstream's own body; its request ID goes to the log;
 * - the client hanging up: an `AbortError`, a 499 `CLIENT_CLOSED_REQUEST` that is not logged.
 *
 * @example
 * ```ts
 * app.all('/orders/*', (c) => proxyUpstream(c, `${ORDERS}${c.req.path}`, { upstream: 'orders', raw: c.req.raw }));
 * ```
 */
export async function proxyUpstream(c: Context, input: string | URL, init: ProxyUpstreamInit): Promise<Response> {
  const { upstream, timeoutMs, signal: own, customFetch, ...proxyInit } = init;
  const client = c.req.raw.signal;
  const send = customFetch ?? ((request: Request) => fetch(request));
  try {
    return await fetchUpstream(upstream, input, {
      timeoutMs,
      hop: requestHop(c),
      signal: own === undefined || own === null ? client : AbortSignal.any([client, own]),
      // fetchUpstream hands over the deadline and the hop's headers; proxy() builds the upstream request.
      fetch: (target, { signal, headers: forwarded } = {}) =>
        proxy(target instanceof URL || typeof target === 'string' ? target : target.url, {
          ...proxyInit,
          signal: signal ?? null,
          customFetch(request) {
            // This request's ID and trace context, over any the proxied headers carry (the client's own, unvalidated):
            // a trace context the core did not keep (it was malformed) is not passed on either.
            const hop = new Headers(forwarded);
            if (!hop.has('traceparent')) {
              request.headers.delete('traceparent');
              request.headers.delete('tracestate');
            }
            hop.forEach((value, name) => request.headers.set(name, value));
            return send(request);
          },
        }),
    });
  } catch (error) {
    throw isClientAbort(client, error) ? clientClosed(error) : error;
  }
}
