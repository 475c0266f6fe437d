/**
 * @module
 * Hono adapter of gateway-errors: a request-ID middleware, an `onError`
 * handler, a not-found handler, `proxy()` with a deadline, and the problem
 * responses and schema for an OpenAPI document. Web APIs only: it runs
 * wherever Hono runs (Node.js, Bun, Deno, Cloudflare Workers).
 */
import { defineConventions, ROUTE_NOT_FOUND } from '@gateway-errors/core';
import type { Conventions, ConventionsOptions } from '@gateway-errors/core';
import type { ErrorHandler, MiddlewareHandler, NotFoundHandler } from 'hono';
import { requestIdMiddleware, respond } from './middleware.js';
import type { RequestIdEnv } from './middleware.js';

export { requestHop } from './context.js';
export * from './openapi.js';
export { proxyUpstream } from './proxy.js';
export type { ProxyInit, ProxyUpstreamInit } from './proxy.js';
export type { Conventions, ConventionsOptions, Hop } from '@gateway-errors/core';

export type { RequestIdVariables } from './middleware.js';

/**
 * First middleware: reuses the ID `hono/request-id` set, or validates the
 * incoming header (or makes an ID), stores it as `c.get('requestId')` and sets
 * the response header on every answer, a `Response` the handler made itself
 * (`proxy()`, `fetch()`) included. It also answers values thrown that are not
 * `Error`s, which Hono does not pass to `onError`.
 *
 * @example
 * ```ts
 * app.use(requestId(conventions));
 * ```
 */
export function requestId(conventions?: Conventions | ConventionsOptions): MiddlewareHandler<RequestIdEnv> {
  return requestIdMiddleware(defineConventions(conventions));
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

