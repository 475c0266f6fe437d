/**
 * @module
 * Fastify plugin of gateway-errors: validated request IDs and an error handler
 * that answers every failure with the core's problem response.
 */
import { defineConventions, logWith, renderProblem, resolveRequestId, ROUTE_NOT_FOUND, STALE_HEADERS } from '@gateway-errors/core';
import type { Conventions, ConventionsOptions, HeadersLike } from '@gateway-errors/core';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export type { Conventions, ConventionsOptions } from '@gateway-errors/core';

/** Options of the plugin: the shared conventions. */
export type GatewayErrorsOptions = Conventions | ConventionsOptions;

const RESOLVED = Symbol.for('gateway-errors.request-id');
const STALE: ReadonlySet<string> = new Set(STALE_HEADERS);

type RawRequest = { headers: HeadersLike; [RESOLVED]?: string };

/**
 * Fastify's `genReqId` that validates the incoming request ID (or makes one),
 * so `request.id`, the response header, the problem body and every
 * `request.log` line carry the same ID.
 *
 * @example
 * ```ts
 * const app = Fastify({ genReqId: genReqId(conventions), logger: true });
 * ```
 */
export function genReqId(conventions?: GatewayErrorsOptions): (req: { headers: HeadersLike }) => string {
  const config = defineConventions(conventions);
  return function genReqId(req) {
    const id = resolveRequestId(req.headers, config);
    (req as RawRequest)[RESOLVED] = id;
    return id;
  };
}

/**
 * The bare error handler, for applications that own their error handling:
 * call it from yours, or pass it to `setErrorHandler` (the plugin does).
 *
 * @example
 * ```ts
 * app.setErrorHandler(errorHandler(conventions));
 * ```
 */
export function errorHandler(
  conventions?: GatewayErrorsOptions,
): (error: unknown, request: FastifyRequest, reply: FastifyReply) => void {
  const config = defineConventions(conventions);
  return function gatewayErrors(error, request, reply) {
    const problem = renderProblem(
      error,
      {
        method: request.method,
        url: request.url,
        headers: request.headers,
        id: typeof request.id === 'string' ? request.id : undefined,
        log: config.onError === undefined ? logWith(request.log) : undefined,
      },
      config,
    );
    // A response that already started cannot become a problem: cut the connection, as Fastify's own
    // handler does, so the client sees a failed response instead of waiting for the rest.
    if (reply.raw.headersSent && !reply.raw.writableEnded && !reply.raw.destroyed) {
      reply.raw.destroy();
      return;
    }
    // A reply already sent, or a client that left, gets nothing more.
    if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) return;
    for (const name of Object.keys(reply.getHeaders())) {
      if (STALE.has(name)) reply.removeHeader(name);
    }
    reply.code(problem.status).headers(problem.headers);
    if (problem.body === null) reply.send();
    else reply.send(problem.body);
  };
}

/**
 * A problem+json 404 for `setNotFoundHandler`.
 *
 * @example
 * ```ts
 * app.setNotFoundHandler(notFoundHandler(conventions));
 * ```
 */
export function notFoundHandler(conventions?: GatewayErrorsOptions): (request: FastifyRequest, reply: FastifyReply) => void {
  const handle = errorHandler(conventions);
  return function notFound(request, reply) {
    handle(ROUTE_NOT_FOUND, request, reply);
  };
}

const plugin: FastifyPluginCallback<GatewayErrorsOptions> = (app, options, done) => {
  const config = defineConventions(options);
  const header = config.requestIdHeader;
  const label = app.initialConfig.requestIdLogLabel ?? 'reqId';
  app.addHook('onRequest', function requestId(request, reply, next) {
    let id = (request.raw as unknown as RawRequest)[RESOLVED];
    if (id === undefined) {
      // genReqId was not given to the Fastify constructor: answer with a validated ID all the same.
      id = resolveRequestId(request.headers, config);
      if (request.id !== id) {
        request.id = id;
        // Fastify bound its own ID to request.log before this hook: bind the one the response carries.
        const { level } = request.log;
        request.log = app.childLoggerFactory.call(app, app.log, { [label]: id }, typeof level === 'string' ? { level } : {}, request.raw);
      }
    }
    reply.header(header, id);
    next();
  });
  app.setErrorHandler(errorHandler(config));
  done();
};

/**
 * The plugin: register it at the root. Sets the error handler and answers
 * every response with the request-ID header.
 *
 * @example
 * ```ts
 * await app.register(gatewayErrors, conventions);
 * ```
 */
const gatewayErrors: FastifyPluginCallback<GatewayErrorsOptions> = fp(plugin, {
  name: '@gateway-errors/fastify',
  fastify: '5.x',
});

export default gatewayErrors;
export { gatewayErrors };
