/**
 * What the plugin hands to `@fastify/http-proxy` and `@fastify/reply-from`: the request's hop (its
 * validated ID and trace context) for the upstream request, the deadline, and the core's errors for an
 * upstream that answers 5xx or 429.
 */
import {
  BadGatewayError,
  defineConventions,
  forwardHeaders,
  GatewayTimeoutError,
  hopOf,
  parseRetryAfter,
  REQUEST_ID_KEY,
  ServiceUnavailableError,
  upstreamRequestId,
} from '@gateway-errors/core';
import type { Conventions, ConventionsOptions, HeadersLike, Hop, RequestIdStash } from '@gateway-errors/core';
import { withUpstream } from '@gateway-errors/core/upstream';

/** The longest delay a timer takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;
/** A Retry-After passed on from an upstream is capped by the conventions later; this only bounds parsing. */
const MAX_UPSTREAM_RETRY_AFTER = 86_400;

/** The request as the proxy hooks read it: a Fastify request. */
export interface ProxiedRequest {
  readonly id: unknown;
  readonly headers: HeadersLike;
  readonly raw: object;
}

/** The reply as the proxy hooks write it: a Fastify reply. */
export interface ProxiedReply {
  send(payload?: unknown): unknown;
  removeHeader(name: string): unknown;
}

/** The upstream's answer as `@fastify/reply-from` hands it to `onResponse`. */
export interface UpstreamAnswer {
  readonly statusCode: number;
  readonly stream: { destroy(): unknown };
}

/** What `@fastify/reply-from` hands to `retryDelay`. */
export interface RetryDetails<TRequest, TReply> {
  readonly err: Error;
  readonly req: TRequest;
  readonly res: TReply;
  readonly attempt: number;
  /** `@fastify/reply-from`'s own choice: (request, answer, error, retries). */
  readonly getDefaultDelay: (...args: [req: TRequest, res: TReply, err: Error, retries: number]) => number | null;
}

/** Options of {@link proxyReplyOptions}. */
export interface ProxyReplyOptionsInit {
  /** The upstream's logical name, such as `"orders"`: it names the upstream in logs and development bodies. Never a host or URL. */
  readonly upstream?: string | undefined;
  /**
   * How long the upstream may stay silent, in milliseconds: before its answer's head (a 504
   * `UPSTREAM_TIMEOUT`) and between chunks of its body (the response is cut off). Default: the
   * conventions' `upstreamTimeoutMs` (10,000). `Infinity`: none.
   */
  readonly timeoutMs?: number | undefined;
}

/**
 * The per-request options of `@fastify/reply-from` (`reply.from(source, options)`), which
 * `@fastify/http-proxy` takes as `replyOptions`. Assignable to both libraries' types.
 */
export interface ProxyReplyOptions {
  /** The deadline: `@fastify/reply-from`'s `timeout` (undici's `headersTimeout` and `bodyTimeout`, or the socket timeout of `http`). */
  readonly timeout: number;
  /** Sets the request ID and the `traceparent` of the request being handled on the upstream request. */
  readonly rewriteRequestHeaders: <THeaders extends object>(request: ProxiedRequest, headers: THeaders) => THeaders;
  /** Keeps this service's request ID on the response: the upstream's own is not copied over it. */
  readonly rewriteHeaders: <THeaders extends object>(headers: THeaders, request?: unknown) => THeaders;
  /** Passes answers below 500 (other than 429) on; turns the others into the core's errors, for the plugin's error handler. */
  readonly onResponse: (request: ProxiedRequest, reply: ProxiedReply, res: UpstreamAnswer) => void;
  /** Names the upstream on a connection failure (refused, reset, garbage, TLS, timeout), classified as any upstream call's. */
  readonly onError: (reply: ProxiedReply, failure: { error: Error }) => void;
  /** Retries what `@fastify/reply-from` retries, except an upstream 503: its `Retry-After` is passed on to the client instead. */
  readonly retryDelay: <TRequest, TReply>(details: RetryDetails<TRequest, TReply>) => number | null;
}

/**
 * The hop of a request the plugin handles: its validated request ID (the one the response carries), the
 * `traceparent` it came with when valid, and the conventions. For `forwardHeaders(requestHop(request))`
 * where the current hop is not at hand.
 *
 * @example
 * ```ts
 * const res = await fetchUpstream('orders', url, { hop: requestHop(request) });
 * ```
 */
export function requestHop(request: ProxiedRequest, conventions?: Conventions | ConventionsOptions): Hop {
  // The ID genReqId resolved, else the one the plugin set as `request.id`.
  const stashed = (request.raw as RequestIdStash)[REQUEST_ID_KEY];
  const { id } = request;
  const requestId = typeof stashed === 'string' ? stashed : typeof id === 'string' ? id : '';
  return hopOf(request.headers, requestId, defineConventions(conventions));
}

/**
 * The options that put `@fastify/http-proxy` and `@fastify/reply-from` under the conventions:
 *
 * - the upstream request carries this request's ID and `traceparent` (a child of the active span when
 *   OpenTelemetry is active), never unvalidated ones the client sent;
 * - the upstream has `timeoutMs` (default `conventions.upstreamTimeoutMs`) to answer: past it, a 504
 *   `UPSTREAM_TIMEOUT` with `Proxy-Status: …; error=http_response_timeout`;
 * - an upstream 5xx or 429 becomes the core's problem (503 with the upstream's `Retry-After` for 503
 *   and 429, 504 for 504, else 502 `UPSTREAM_ERROR_STATUS`), never the upstream's body or headers; its
 *   own request ID goes to the log record;
 * - the response keeps this service's request ID.
 *
 * Connection failures (refused, reset, garbage, TLS) reach the plugin's error handler as they are.
 * Certificates are checked only when the proxy is told to: see the README.
 *
 * @example
 * ```ts
 * await app.register(proxy, { upstream: ORDERS, prefix: '/orders', replyOptions: proxyReplyOptions(conventions, { upstream: 'orders' }) });
 * app.get('/users/:id', (request, reply) => reply.from(`/u/${request.params.id}`, proxyReplyOptions(conventions)));
 * ```
 */
export function proxyReplyOptions(
  conventions?: Conventions | ConventionsOptions,
  { upstream, timeoutMs }: ProxyReplyOptionsInit = {},
): ProxyReplyOptions {
  const config = defineConventions(conventions);
  const timeout = timeoutMs ?? config.upstreamTimeoutMs;
  if (typeof timeout !== 'number' || !(timeout > 0) || (timeout > MAX_TIMER_MS && timeout !== Infinity)) {
    throw new TypeError(`gateway-errors: timeoutMs must be a number of milliseconds above 0, at most ${MAX_TIMER_MS}, or Infinity; got ${String(timeout)}`);
  }
  if (upstream !== undefined && (typeof upstream !== 'string' || upstream === '')) {
    throw new TypeError('gateway-errors: upstream must be a non-empty name');
  }
  const idHeader = config.requestIdHeader;

  return {
    // 0 is "none" for undici and for Node's socket timeout.
    timeout: timeout === Infinity ? 0 : Math.ceil(timeout),

    rewriteRequestHeaders: function forwardHop(request, headers) {
      const forwarded = forwardHeaders(requestHop(request, config));
      const out: Record<string, unknown> = { ...(headers as Record<string, unknown>), ...forwarded };
      // The client's own trace context is passed on only when it was valid (then it is in `forwarded`).
      if (forwarded['traceparent'] === undefined) {
        delete out['traceparent'];
        delete out['tracestate'];
      }
      if (forwarded[idHeader] === undefined) delete out[idHeader];
      return out as typeof headers;
    },

    rewriteHeaders: function keepRequestId(headers) {
      if (!Object.hasOwn(headers, idHeader)) return headers;
      const out: Record<string, unknown> = { ...(headers as Record<string, unknown>) };
      delete out[idHeader];
      return out as typeof headers;
    },

    onResponse: function answerFailures(_request, reply, res) {
      const status = res.statusCode;
      if (status < 500 && status !== 429) {
        reply.send(res.stream);
        return;
      }
      // Nobody reads this body: free the connection. Its headers were copied onto the reply: drop them.
      res.stream.destroy();
      const headers = (res as { headers?: unknown }).headers;
      const names = typeof headers === 'object' && headers !== null ? Object.keys(headers) : [];
      for (const name of names) if (name !== idHeader && !name.startsWith(':')) reply.removeHeader(name);
      reply.send(errorForStatus(upstream, status, headers));
    },

    onError: function tagUpstream(reply, { error }) {
      if (upstream === undefined) {
        reply.send(error);
        return;
      }
      // The core's own tagging of a failed upstream call: the same error classes and codes as withUpstream's.
      withUpstream(upstream, () => Promise.reject(error), { timeoutMs: Infinity }).catch((tagged: unknown) => reply.send(tagged));
    },

    retryDelay: function retryDelay({ err, req, res, attempt, getDefaultDelay }) {
      // `@fastify/reply-from` retries a GET answered 503 up to ten times, its Retry-After read as milliseconds.
      if (err === undefined || err === null) {
        const answered = (res as { statusCode?: unknown } | undefined)?.statusCode;
        if (answered === 503) return null;
      }
      return getDefaultDelay(req, res, err, attempt);
    },
  };
}

/** The core's error for an upstream answer of 5xx or 429, as `fetchUpstream` makes it. */
function errorForStatus(upstream: string | undefined, upstreamStatus: number, headers: unknown): Error {
  const answered = { upstream, upstreamStatus, upstreamRequestId: upstreamRequestId(headers) };
  if (upstreamStatus === 503 || upstreamStatus === 429) {
    const value = (headers as Record<string, unknown> | undefined)?.['retry-after'];
    const retryAfter = parseRetryAfter(typeof value === 'string' ? value : undefined, { max: MAX_UPSTREAM_RETRY_AFTER });
    return new ServiceUnavailableError({ ...answered, retryAfter });
  }
  if (upstreamStatus === 504) return new GatewayTimeoutError(answered);
  return new BadGatewayError({ ...answered, code: 'UPSTREAM_ERROR_STATUS' });
}
