/**
 * http-proxy-middleware (v3 and v4) behind an Express or any Connect-style server: every proxy
 * failure answered with the core's problem, exactly as a route that threw the same failure would be
 * answered by `gatewayErrors()`; a deadline of its own, told apart from a reset; the request ID and
 * trace context passed on to the upstream.
 *
 * Structural types only: http-proxy-middleware is an optional peer, and its two majors type their
 * proxy servers differently (http-proxy in v3, httpxy in v4).
 */
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import {
  BadGatewayError,
  classify,
  defineConventions,
  forwardHeaders,
  GatewayTimeoutError,
  hopOf,
  isUpstreamError,
  parseRetryAfter,
  renderProblem,
  resolveRequestId,
  ServiceUnavailableError,
  upstreamRequestId,
  writeProblem,
} from '@gateway-errors/core';
import type { BadGatewayCode, Conventions, ConventionsOptions, LoggerLike, NodeResponseLike, ProblemRequest } from '@gateway-errors/core';

/** The longest delay a timer takes (2^31 - 1 ms); a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;
const UPSTREAM_NAME = /^[\x21-\x7e](?:[\x20-\x7e]{0,98}[\x21-\x7e])?$/;
/** The longest `Retry-After` passed on from an upstream's answer before the conventions cap it. */
const MAX_UPSTREAM_RETRY_AFTER = 86_400;

/** What {@link proxyProblems} does with an upstream's own 5xx or 429 answer. */
export type UpstreamErrorAnswers = 'pass' | 'problem';

/** Options of {@link proxyProblems}. */
export interface ProxyProblemsOptions<TOn extends object = Record<never, never>, TPlugin = never> {
  /** The upstream's name, for logs (and bodies in development or with `exposeUpstream`). Never a host or URL. */
  readonly upstream?: string | undefined;
  /**
   * Deadline until the upstream's response head, in milliseconds: when it passes, the request to the
   * upstream is destroyed and the answer is a 504 `UPSTREAM_TIMEOUT`. Default: the conventions'
   * `upstreamTimeoutMs` (10,000). `Infinity`: none.
   */
  readonly timeoutMs?: number | undefined;
  /**
   * An upstream's own 5xx or 429 answer: `'problem'` (default) answers with the problem
   * `fetchUpstream` would throw for it (503 with the upstream's `Retry-After`, 504 for a 504, else 502
   * `UPSTREAM_ERROR_STATUS`), never the upstream's body (a 500 page may hold a stack); `'pass'` streams
   * it to the client as the proxy does.
   */
  readonly upstreamErrors?: UpstreamErrorAnswers | undefined;
  /** Your own `on` handlers: spreading `proxyProblems()` sets `on`, so hand yours over here. */
  readonly on?: TOn | undefined;
  /** Your own plugins: spreading `proxyProblems()` sets `plugins`, so hand yours over here. */
  readonly plugins?: readonly TPlugin[] | undefined;
}

/**
 * The proxy server http-proxy-middleware hands its plugins (http-proxy in v3, httpxy in v4), as far
 * as {@link proxyProblems} uses it.
 */
export interface ProxyServerLike {
  on(event: string, listener: (...args: never[]) => void): unknown;
  web?: unknown;
}

/** The options http-proxy-middleware hands its plugins, as far as {@link proxyProblems} reads them. */
export interface ProxyOptionsLike {
  readonly ejectPlugins?: boolean | undefined;
  readonly on?: object | undefined;
}

/**
 * The plugin {@link proxyProblems} adds to http-proxy-middleware's `plugins`. Its server is an `object`
 * (a {@link ProxyServerLike} at run time): a typed `on` there would be where TypeScript infers
 * `createProxyMiddleware()`'s request and response types from, and it would infer `never`.
 */
export type ProxyProblemsPlugin = (server: object, options: ProxyOptionsLike) => void;

/** Your `on` handlers, with an `error` handler that keeps http-proxy-middleware's own error page off. */
export type ProxyProblemsOn<TOn extends object> = TOn extends { readonly error: unknown } ? TOn : TOn & { readonly error: () => void };

/** What {@link proxyProblems} returns: spread it into `createProxyMiddleware()`'s options. */
export interface ProxyProblems<TOn extends object = Record<never, never>, TPlugin = never> {
  readonly on: ProxyProblemsOn<TOn>;
  readonly plugins: Array<TPlugin | ProxyProblemsPlugin>;
}

/** Where one proxied request got to. */
interface ProxyState {
  /** The request ID, resolved once: forwarded to the upstream and shown in the problem. */
  id?: string;
  /** Set when the deadline passed (ours or the proxy's `proxyTimeout`): whether the socket was still connecting. */
  deadline?: { readonly connecting: boolean };
  /** The upstream's own request ID, from its response head. */
  upstreamRequestId?: string | undefined;
  /** The failure was answered (or reported): later errors of the same request change nothing. */
  answered?: boolean;
}

type ProxiedRequest = IncomingMessage & { originalUrl?: string; log?: LoggerLike };

/**
 * The http-proxy-middleware options that answer every proxy failure with the core's problem: the
 * same status, code, headers and body as a route that threw the same failure through
 * {@link gatewayErrors}, and never the proxy's own error page (which shows the Host and the path).
 *
 * - A connection refused is a 502 `UPSTREAM_UNREACHABLE`, a reset a 502 `UPSTREAM_CONNECTION_LOST`,
 *   an invalid certificate a 502 `UPSTREAM_TLS_FAILURE`, garbage a 502 `UPSTREAM_BAD_RESPONSE`.
 * - The deadline (`timeoutMs`, default the conventions' `upstreamTimeoutMs`) is a 504
 *   `UPSTREAM_TIMEOUT`, with `Proxy-Status` `connection_timeout` when the connection was never made,
 *   else `http_response_timeout`; so is http-proxy-middleware's own `proxyTimeout`.
 * - A failure after the response head went out cuts the response off: nothing is appended.
 * - A failed WebSocket upgrade destroys the socket.
 * - The request ID and `traceparent` go to the upstream; the upstream's own request ID goes to the
 *   log record (`err.upstream.requestId`).
 *
 * @example
 * ```ts
 * app.use('/orders', createProxyMiddleware({ target: ORDERS_URL, ...proxyProblems(conventions, { upstream: 'orders' }) }));
 * ```
 */
export function proxyProblems<TOn extends object = Record<never, never>, TPlugin = never>(
  conventions?: Conventions | ConventionsOptions,
  options: ProxyProblemsOptions<TOn, TPlugin> = {},
): ProxyProblems<TOn, TPlugin> {
  const config = defineConventions(conventions);
  const { upstream, timeoutMs = config.upstreamTimeoutMs, upstreamErrors = 'problem', on, plugins = [] } = options;
  if (upstream !== undefined && (typeof upstream !== 'string' || !UPSTREAM_NAME.test(upstream))) {
    throw new TypeError('gateway-errors: proxyProblems() needs `upstream` as 1 to 100 printable ASCII characters');
  }
  if (!(timeoutMs === Infinity || (typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS))) {
    throw new TypeError(`gateway-errors: proxyProblems() needs \`timeoutMs\` above 0, at most ${MAX_TIMER_MS}, or Infinity`);
  }
  if (upstreamErrors !== 'pass' && upstreamErrors !== 'problem') {
    throw new TypeError('gateway-errors: proxyProblems() needs `upstreamErrors` to be "pass" or "problem"');
  }
  if (on !== undefined && (typeof on !== 'object' || on === null)) throw new TypeError('gateway-errors: proxyProblems() needs `on` as an object');
  if (!Array.isArray(plugins)) throw new TypeError('gateway-errors: proxyProblems() needs `plugins` as an array');

  const states = new WeakMap<object, ProxyState>();
  const stateOf = (req: object): ProxyState => {
    let state = states.get(req);
    if (state === undefined) states.set(req, (state = {}));
    return state;
  };

  const requestIdOf = (req: ProxiedRequest, res: unknown, state: ProxyState): string => {
    if (state.id === undefined) {
      // The ID `requestId()` resolved, as `gatewayErrors()` reads it; else resolved here, once.
      const known = localsOf(res)?.['requestId'];
      state.id = typeof known === 'string' ? known : resolveRequestId(req.headers, config);
    }
    return state.id;
  };

  /** The request as `gatewayErrors()` hands it to the core, with the request ID forwarded upstream. */
  const view = (req: ProxiedRequest, res: unknown, state: ProxyState): ProblemRequest => ({
    method: req.method,
    // `pathRewrite` and mounting rewrite `req.url`; the client asked for `originalUrl`.
    url: typeof req.originalUrl === 'string' ? req.originalUrl : req.url,
    headers: req.headers,
    id: requestIdOf(req, res, state),
    logger: req.log,
  });

  /** The failure as `withUpstream` would have thrown it: tagged with the upstream's name and request ID. */
  const upstreamFailure = (error: unknown, state: ProxyState): unknown => {
    if (isUpstreamError(error)) return error;
    if (state.deadline !== undefined) return deadlineError(upstream, timeoutMs, state.deadline.connecting);
    const tags = { upstream, upstreamRequestId: state.upstreamRequestId, cause: error };
    const classification = classify(error);
    switch (classification.status) {
      case 502:
        return new BadGatewayError({ ...tags, code: classification.code as BadGatewayCode, upstreamStatus: classification.upstreamStatus });
      case 503:
        return new ServiceUnavailableError(tags);
      case 504:
        return new GatewayTimeoutError(tags);
      default:
        return error;
    }
  };

  /** Answers one request's failure, once: the problem, a cut-off response, or a destroyed upgrade socket. */
  const answer = (error: unknown, req: ProxiedRequest, res: unknown): void => {
    const state = stateOf(req);
    if (state.answered === true) return;
    state.answered = true;
    const problem = renderProblem(upstreamFailure(error, state), view(req, res, state), config);
    if (isResponse(res)) writeProblem(res, problem);
    // A WebSocket upgrade has no HTTP response to write on: the failure is reported, the socket closed.
    else destroy(res);
  };

  const onProxyReq = (proxyReq: ClientRequest, req: ProxiedRequest, res: unknown): void => {
    const state = stateOf(req);
    forward(proxyReq, forwardHeaders(hopOf(req.headers, requestIdOf(req, res, state), config)));
    // http-proxy-middleware's `proxyTimeout` destroys the request as a plain "socket hang up": mark it a deadline.
    proxyReq.once('timeout', () => {
      state.deadline ??= { connecting: isConnecting(proxyReq) };
    });
    if (timeoutMs === Infinity) return;
    const timer = setTimeout(() => {
      const connecting = isConnecting(proxyReq);
      state.deadline = { connecting };
      proxyReq.destroy(deadlineError(upstream, timeoutMs, connecting));
    }, timeoutMs);
    const clear = (): void => clearTimeout(timer);
    proxyReq.once('response', clear);
    proxyReq.once('close', clear);
  };

  const onProxyReqWs = (proxyReq: ClientRequest, req: ProxiedRequest): void => {
    forward(proxyReq, forwardHeaders(hopOf(req.headers, requestIdOf(req, undefined, stateOf(req)), config)));
  };

  const onProxyRes = (proxyRes: IncomingMessage, req: ProxiedRequest, res: unknown): void => {
    const state = stateOf(req);
    state.upstreamRequestId = upstreamRequestId(proxyRes.headers);
    // The answer keeps this request's ID: the proxy copies the upstream's head after this listener, and
    // an upstream's own ID under the same header would replace it (it is in the log record instead).
    proxyRes.headers[config.requestIdHeader] = requestIdOf(req, res, state);
    // A body cut short after the head went out: v3 passes it on silently, leaving the client waiting;
    // v4 emits its error after this listener. Either way it is answered here, once: the response is cut off.
    proxyRes.on('error', (error: unknown) => answer(error, req, res));
    const status = proxyRes.statusCode ?? 0;
    if (upstreamErrors === 'problem' && (status >= 500 || status === 429)) {
      // Answered before the proxy copies the head: it sees a finished response and pipes nothing.
      proxyRes.resume();
      answer(errorForStatus(status, proxyRes.headers, { upstream, upstreamRequestId: state.upstreamRequestId }), req, res);
    }
  };

  const onError = (error: unknown, req: unknown, res: unknown): void => {
    // Without a request (a proxy created without a target) there is nothing to answer: the middleware passes that error on itself.
    if (isRequest(req)) answer(error, req, res);
  };

  function proxyProblemsPlugin(proxyServer: object, proxyOptions: ProxyOptionsLike): void {
    const server = proxyServer as ProxyServerLike;
    const { ejectPlugins, on: handlers } = proxyOptions;
    if (ejectPlugins !== true && typeof (handlers as { error?: unknown } | undefined)?.error !== 'function') {
      throw new TypeError(
        'gateway-errors: http-proxy-middleware would write its own error page as well: an `on` option replaced the one proxyProblems() set; pass your `on` handlers as proxyProblems(conventions, { on })',
      );
    }
    server.on('error', onError);
    server.on('proxyReq', onProxyReq);
    server.on('proxyReqWs', onProxyReqWs);
    server.on('proxyRes', onProxyRes);
    guardWeb(server, onError);
  }

  return {
    on: withErrorHandler(on),
    plugins: [...(plugins as readonly TPlugin[]), proxyProblemsPlugin],
  };
}

/**
 * http-proxy-middleware v4 awaits the proxy's `web()`; when it rejects it emits `error` and then calls
 * `next(err)`, which would hand an answered failure to the next error handler (a second log line, or
 * Express's final handler printing the raw stack). The rejection is answered here instead and goes
 * no further. v3's `web()` returns nothing and is left as it is.
 */
function guardWeb(server: ProxyServerLike, onError: (error: unknown, req: unknown, res: unknown) => void): void {
  const original = server.web;
  if (typeof original !== 'function') return;
  server.web = function web(this: unknown, ...args: unknown[]): unknown {
    const result: unknown = Reflect.apply(original, this, args);
    if (!isThenable(result)) return result;
    const [req, res] = args;
    return result.then(undefined, (error: unknown) => onError(error, req, res));
  };
}

function withErrorHandler<TOn extends object>(on: TOn | undefined): ProxyProblemsOn<TOn> {
  const handlers = { ...on } as Record<string, unknown>;
  // An `error` handler is what keeps http-proxy-middleware's default error page off (both majors);
  // the plugin answers the error itself.
  if (typeof handlers['error'] !== 'function') handlers['error'] = function answeredByProxyProblems(): void {};
  return handlers as ProxyProblemsOn<TOn>;
}

/** Sets the forwarded headers, and drops a `traceparent` the core did not keep (it was invalid). */
function forward(proxyReq: ClientRequest, headers: Record<string, string>): void {
  try {
    if (proxyReq.headersSent) return;
    for (const name in headers) proxyReq.setHeader(name, headers[name]!);
    if (headers['traceparent'] === undefined) {
      proxyReq.removeHeader('traceparent');
      proxyReq.removeHeader('tracestate');
    }
  } catch {
    // The head is already on its way: nothing to add.
  }
}

/** The 504 of a deadline: `connection_timeout` when the socket never connected, else `http_response_timeout`. */
function deadlineError(upstream: string | undefined, timeoutMs: number, connecting: boolean): GatewayTimeoutError {
  // Node's own shape of a connect timeout, which the core reads as `connection_timeout`.
  const cause = connecting
    ? Object.assign(new Error(`connect ETIMEDOUT: no connection within ${timeoutMs} ms`), { code: 'ETIMEDOUT', syscall: 'connect' })
    : Object.assign(new Error(`no response head within ${timeoutMs} ms`), { name: 'TimeoutError' });
  return new GatewayTimeoutError({ upstream, cause });
}

/** The error `fetchUpstream` throws for the same answer. */
function errorForStatus(
  upstreamStatus: number,
  headers: IncomingHttpHeaders,
  tags: { upstream: string | undefined; upstreamRequestId: string | undefined },
): Error {
  const answered = { ...tags, upstreamStatus };
  if (upstreamStatus === 503 || upstreamStatus === 429) {
    return new ServiceUnavailableError({ ...answered, retryAfter: parseRetryAfter(headers['retry-after'], { max: MAX_UPSTREAM_RETRY_AFTER }) });
  }
  if (upstreamStatus === 504) return new GatewayTimeoutError(answered);
  return new BadGatewayError({ ...answered, code: 'UPSTREAM_ERROR_STATUS' });
}

function isConnecting(proxyReq: ClientRequest): boolean {
  return proxyReq.socket?.connecting === true;
}

function isRequest(value: unknown): value is ProxiedRequest {
  return typeof value === 'object' && value !== null && typeof (value as IncomingMessage).headers === 'object';
}

/** A Node.js `ServerResponse` (not the socket of a WebSocket upgrade). */
function isResponse(value: unknown): value is NodeResponseLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as NodeResponseLike).setHeader === 'function' &&
    typeof (value as NodeResponseLike).getHeaderNames === 'function'
  );
}

function localsOf(res: unknown): Record<string, unknown> | undefined {
  if (!isResponse(res)) return undefined;
  const locals: unknown = (res as { locals?: unknown }).locals;
  return typeof locals === 'object' && locals !== null ? (locals as Record<string, unknown>) : undefined;
}

function destroy(socket: unknown): void {
  try {
    (socket as { destroy?: () => void } | null)?.destroy?.();
  } catch {
    // Already gone.
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
