/**
 * @module
 * Fastify plugin of gateway-errors: validated request IDs and an error handler
 * that answers every failure with the core's problem response.
 */
import { applyProblem, defineConventions, hopOf, renderProblem, REQUEST_ID_KEY, resolveRequestId, ROUTE_NOT_FOUND } from '@gateway-errors/core';
import type { Conventions, ConventionsOptions, HeadersLike, ProblemSink, RequestIdStash, ResponseState } from '@gateway-errors/core';
import { runWithHop } from '@gateway-errors/core/node';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export type { Conventions, ConventionsOptions, Hop } from '@gateway-errors/core';
export { proxyReplyOptions, requestHop } from './proxy.js';
export type { ProxyReplyOptions, ProxyReplyOptionsInit } from './proxy.js';
export { problemResponseSchemas } from './openapi.js';
export type { ProblemResponseSchema, ProblemResponseSchemasOptions } from './openapi.js';
// The problem schema and OpenAPI responses of the core, so an application imports from one package.
export { PROBLEM_SCHEMA, problemResponses, problemSchema } from '@gateway-errors/core';
export type {
  JsonSchema,
  OpenApiExample,
  OpenApiHeader,
  OpenApiResponse,
  OpenApiVersion,
  ProblemResponsesOptions,
  ProblemResponseStatus,
} from '@gateway-errors/core';

/** Options of the plugin: the shared conventions. */
export type GatewayErrorsOptions = Conventions | ConventionsOptions;

type RawRequest = { headers: HeadersLike } & RequestIdStash;

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
    (req as RawRequest)[REQUEST_ID_KEY] = id;
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
        logger: request.log,
      },
      config,
    );
    applyProblem(new ReplySink(reply), problem);
  };
}

/** The serializer of an answer the core serialized. */
const asIs = (body: string): string => body;

/** A Fastify reply as the core writes onto it. A class: a failure makes no closures. */
class ReplySink implements ProblemSink {
  constructor(private readonly reply: FastifyReply) {}

  state(): ResponseState {
    const { reply } = this;
    const { raw } = reply;
    // Started: its head went out through `reply.raw` (a stream failed half-way). Gone: sent, or the client left.
    if (raw.headersSent && !raw.writableEnded && !raw.destroyed) return 'started';
    return reply.sent || raw.headersSent || raw.destroyed ? 'gone' : 'open';
  }

  headerNames(): string[] {
    return Object.keys(this.reply.getHeaders());
  }

  removeHeader(name: string): void {
    this.reply.removeHeader(name);
  }

  setHeader(name: string, value: string): void {
    this.reply.header(name, value);
  }

  getHeader(name: string): unknown {
    return this.reply.getHeader(name);
  }

  end(status: number, body: string | null): void {
    // The body is serialized already: Fastify passes a string on untouched (no response schema applies to
    // it) unless the route set a serializer of its own with `reply.serializer()`, which must not encode it again.
    if (body === null) this.reply.code(status).send();
    else this.reply.code(status).serializer(asIs).send(body);
  }

  abort(): void {
    // As Fastify's own handler does: the client sees a failed response instead of waiting for the rest.
    this.reply.raw.destroy();
  }
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
  const label = requestIdLogLabel(app);
  app.addHook('onRequest', function requestId(request, reply, next) {
    let id = (request.raw as unknown as RawRequest)[REQUEST_ID_KEY];
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
    // The rest of the request runs with its hop current, so upstream calls made while handling it pass
    // its ID and trace context on (withUpstream, fetchUpstream, forwardHeaders()). Fastify runs body
    // parsing, the handler and the error handler in this async context (its content-type parsers keep it).
    if (config.hopStorage) runWithHop(hopOf(request.headers, id, config), next);
    else next();
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

/**
 * The field Fastify binds the request ID under in `request.log`: its log controller's
 * `requestIdLogLabel` (Fastify 5.11+ binds with it, whether it came from
 * `new LogController({ requestIdLogLabel })` or the deprecated top-level option), else, before log
 * controllers, the top-level option, else `reqId`. The controller sits on the instance, or on an
 * ancestor of an encapsulated plugin context, under a symbol Fastify does not export.
 */
function requestIdLogLabel(app: FastifyInstance): string {
  try {
    for (let scope: object | null = app, depth = 0; scope !== null && depth < 64; scope = Object.getPrototypeOf(scope) as object | null, depth++) {
      const key = Object.getOwnPropertySymbols(scope).find((symbol) => symbol.description === 'fastify.logController');
      if (key === undefined) continue;
      const label: unknown = (Reflect.get(scope, key) as { requestIdLogLabel?: unknown } | undefined)?.requestIdLogLabel;
      if (typeof label === 'string' && label !== '') return label;
      break;
    }
    const own: unknown = (app.initialConfig as { requestIdLogLabel?: unknown }).requestIdLogLabel;
    if (typeof own === 'string' && own !== '') return own;
  } catch {
    // A Proxy or a getter that throws: Fastify's default.
  }
  return 'reqId';
}
