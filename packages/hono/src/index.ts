/**
 * @module
 * Hono adapter of gateway-errors: a request-ID middleware, an `onError`
 * handler and a not-found handler. Web APIs only: it runs wherever Hono runs
 * (Node.js, Bun, Deno, Cloudflare Workers).
 */
import { applyProblem, defineConventions, isValidRequestId, renderProblem, resolveRequestId, ROUTE_NOT_FOUND } from '@gateway-errors/core';
import type { Conventions, ConventionsOptions, HeadersLike, ProblemSink } from '@gateway-errors/core';
import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from 'hono';

export type { Conventions, ConventionsOptions } from '@gateway-errors/core';

/** The context variable the middleware sets; the same one `hono/request-id` uses. */
export type RequestIdVariables = { requestId: string };

type Env = { Variables: RequestIdVariables };

/**
 * First middleware: reuses the ID `hono/request-id` set, or validates the
 * incoming header (or makes an ID), stores it as `c.get('requestId')` and sets
 * the response header. It also answers values thrown that are not `Error`s,
 * which Hono does not pass to `onError`.
 *
 * @example
 * ```ts
 * app.use(requestId(conventions));
 * ```
 */
export function requestId(conventions?: Conventions | ConventionsOptions): MiddlewareHandler<Env> {
  const config = defineConventions(conventions);
  return async function requestId(c, next) {
    const known: unknown = c.get('requestId');
    const id = isValidRequestId(known, config.requestIdPattern) ? known : resolveRequestId(headersOf(c), config);
    c.set('requestId', id);
    c.header(config.requestIdHeader, id);
    try {
      await next();
    } catch (error) {
      // A thrown string, null or plain object skips onError and would escape app.fetch.
      c.res = respond(config, error, c as unknown as Context);
    }
  };
}

/**
 * The error handler for `app.onError`. Keeps an `HTTPException`'s own
 * response when it was given one; answers everything else with the core's
 * problem response.
 *
 * @example
 * ```ts
 * app.onError(gatewayErrors(conventions));
 * ```
 */
export function gatewayErrors(conventions?: Conventions | ConventionsOptions): ErrorHandler {
  const config = defineConventions(conventions);
  return function gatewayErrors(error, c) {
    return respond(config, error, c);
  };
}

/**
 * A problem+json 404 for `app.notFound`.
 *
 * @example
 * ```ts
 * app.notFound(notFound(conventions));
 * ```
 */
export function notFound(conventions?: Conventions | ConventionsOptions): NotFoundHandler {
  const config = defineConventions(conventions);
  return function notFound(c) {
    const response = respond(config, ROUTE_NOT_FOUND, c);
    // Hono keeps a not-found answer only when it is the context's response.
    c.res = response;
    return response;
  };
}

function respond(config: Conventions, error: unknown, c: Context): Response {
  const known: unknown = c.get('requestId');
  const own = ownResponse(error);
  const problem = renderProblem(
    error,
    {
      method: c.req.method,
      url: c.req.url,
      headers: headersOf(c),
      id: typeof known === 'string' ? known : undefined,
    },
    config,
  );
  if (own !== undefined) {
    // The application built this response on purpose: keep it, and say which request it answers.
    own.headers.set(config.requestIdHeader, problem.requestId);
    return own;
  }
  // One Response per failure: newResponse() carries the headers set so far (CORS, Vary, the request ID)
  // into it, and the core drops the stale ones and sets its own over the rest.
  const response = c.newResponse(problem.body, problem.status as never);
  applyProblem(headersSink(response.headers), problem);
  // Hono copies every header of the response under way onto the one returned, over ours (an ETag,
  // a Cache-Control): everything worth keeping is in ours already, so let that response go.
  c.res = undefined as unknown as Response;
  return response;
}

/**
 * The headers of a Response made for the problem, with its status and body: it never started, and
 * once its headers are right there is nothing left to send.
 */
function headersSink(headers: Headers): ProblemSink {
  return {
    state: () => 'open',
    headerNames: () => headers.keys(),
    removeHeader: (name) => headers.delete(name),
    setHeader: (name, value) => headers.set(name, value),
    end() {},
    abort() {},
  };
}

/**
 * The request's headers. On `@hono/node-server` the Node.js request is at hand as `c.env.incoming`:
 * its header record is read as it is, rather than converted to a Web `Headers` on every request.
 */
function headersOf(c: Context): HeadersLike {
  const incoming = (c.env as { incoming?: { headers?: unknown; method?: unknown } } | undefined)?.incoming;
  const headers = incoming?.headers;
  return typeof headers === 'object' && headers !== null && typeof incoming?.method === 'string' ? (headers as HeadersLike) : c.req.raw.headers;
}

/** An `HTTPException` created with `{ res }`: its response, with the exception's status. */
function ownResponse(error: unknown): Response | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { res?: unknown; getResponse?: unknown };
  if (!(candidate.res instanceof Response) || typeof candidate.getResponse !== 'function') return undefined;
  try {
    const response = (candidate.getResponse as () => unknown)();
    return response instanceof Response ? response : undefined;
  } catch {
    return undefined;
  }
}
