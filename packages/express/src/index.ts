/**
 * @module
 * Express adapter of gateway-errors: a request-ID middleware, a problem+json
 * 404 handler, the error handler, and the http-proxy-middleware options that
 * answer proxy failures the same way. Works with Express 4.21+ and 5.
 */
import { defineConventions, hopOf, renderProblem, resolveRequestId, ROUTE_NOT_FOUND, writeProblem } from '@gateway-errors/core';
import type { Conventions, ConventionsOptions, LoggerLike, ProblemRequest } from '@gateway-errors/core';
import { runWithHop } from '@gateway-errors/core/node';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

export type { Conventions, ConventionsOptions } from '@gateway-errors/core';
// The contract of the answers, for a hand-written or generated OpenAPI document.
export { PROBLEM_SCHEMA, problemResponses, problemSchema } from '@gateway-errors/core';
export type { OpenApiResponse, OpenApiVersion, ProblemResponsesOptions, ProblemResponseStatus } from '@gateway-errors/core';
export { proxyProblems } from './proxy.js';
export type {
  ProxyOptionsLike,
  ProxyProblems,
  ProxyProblemsOn,
  ProxyProblemsOptions,
  ProxyProblemsPlugin,
  ProxyServerLike,
  UpstreamErrorAnswers,
} from './proxy.js';

declare global {
  // Express's own way to type what middleware adds to a request.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The request ID, set by `requestId()` (the first middleware): the incoming one when valid, else a
       * new one. With pino-http's types loaded, its `id` type wins.
       */
      id: string;
    }
  }
}

/**
 * First middleware of the app: validates the incoming request ID (or makes
 * one), sets it on the response header, and exposes it as `req.id` and
 * `res.locals.requestId`. The rest of the request runs with its hop (request
 * ID and `traceparent`), so `withUpstream`, `fetchUpstream` and
 * `forwardHeaders()` pass them on to upstreams without being told.
 *
 * @example
 * ```ts
 * app.use(requestId(conventions));
 * ```
 */
export function requestId(conventions?: Conventions | ConventionsOptions): RequestHandler {
  const config = defineConventions(conventions);
  const header = config.requestIdHeader;
  return function requestId(req, res, next) {
    const id = resolveRequestId(req.headers, config);
    req.id = id;
    res.locals['requestId'] = id;
    res.setHeader(header, id);
    if (config.hopStorage) runWithHop(hopOf(req.headers, id, config), next);
    else next();
  };
}

/**
 * The error handler, mounted last. Answers every error with the core's
 * problem response. A response that already started is cut off (the
 * connection is destroyed); a client that is gone gets nothing. Either way the
 * error stays here: Express's final handler would print its raw stack.
 * Logs each 5xx once, masked: through `req.log` when pino-http put one there,
 * else as one JSON line on stderr, unless the conventions set `onError`.
 *
 * @example
 * ```ts
 * app.use(gatewayErrors(conventions));
 * ```
 */
export function gatewayErrors(conventions?: Conventions | ConventionsOptions): ErrorRequestHandler {
  const config = defineConventions(conventions);
  // Express recognises error handlers by their four parameters.
  // eslint-disable-next-line max-params
  return function gatewayErrors(error: unknown, req: Request, res: Response, _next: NextFunction) {
    // Never `next(error)`, even for a response that started (the core cuts it off): Express's final
    // handler would print the raw stack, credentials and all, where the core logged it masked.
    writeProblem(res, renderProblem(error, view(req, res), config));
  };
}

/**
 * A problem+json 404 for requests no route matched. Mount it after the routes
 * and before {@link gatewayErrors}.
 *
 * @example
 * ```ts
 * app.use(notFound(conventions));
 * ```
 */
export function notFound(conventions?: Conventions | ConventionsOptions): RequestHandler {
  const config = defineConventions(conventions);
  return function notFound(req, res) {
    writeProblem(res, renderProblem(ROUTE_NOT_FOUND, view(req, res), config));
  };
}

/** The request as the core reads it, with pino-http's `req.log` when there is one. */
function view(req: Request & { log?: LoggerLike }, res: Response): ProblemRequest {
  const known: unknown = res.locals['requestId'];
  return {
    method: req.method,
    url: req.originalUrl,
    headers: req.headers,
    id: typeof known === 'string' ? known : undefined,
    logger: req.log,
  };
}

/**
 * An async route (or middleware) whose rejection is passed to `next(error)`, so it reaches
 * `gatewayErrors()`. Express 4 does not do it: a rejected promise there is an unhandled rejection,
 * which ends the process. Express 5 does; the wrapper then changes nothing.
 *
 * @example
 * ```ts
 * app.get('/orders/:id', asyncHandler(async (req, res) => {
 *   res.json(await (await fetchUpstream('orders', `${ORDERS_URL}/orders/${req.params.id}`)).json());
 * }));
 * ```
 */
export function asyncHandler<R extends Request = Request, S extends Response = Response>(
  handler: (req: R, res: S, next: NextFunction) => unknown,
): (req: R, res: S, next: NextFunction) => void {
  if (typeof handler !== 'function') throw new TypeError('asyncHandler: handler must be a function');
  return (req, res, next) => {
    let result: unknown;
    try {
      result = handler(req, res, next);
    } catch (error) {
      next(error);
      return;
    }
    if (typeof result !== 'object' || result === null) return;
    try {
      // `then` read once: a getter may answer differently on a second read.
      const then: unknown = (result as { then?: unknown }).then;
      if (typeof then !== 'function') return;
      // A rejection with nothing (`reject()`) is still a failure: Express would take `next(undefined)` for "go on".
      (then as PromiseLike<unknown>['then']).call(result, undefined, (error: unknown) => next(error ?? new Error('The route rejected without a reason.')));
    } catch (error) {
      next(error);
    }
  };
}
