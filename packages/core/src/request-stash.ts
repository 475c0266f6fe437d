/**
 * What an adapter keeps on the platform's request between its request-ID middleware and its error
 * handler.
 */

/**
 * The property under which an adapter stashes the request ID it resolved on the Node.js request
 * (Fastify's `genReqId`, NestJS's middleware), so its error handler answers with the same ID.
 * `Symbol.for`: every copy of the library, ESM or CommonJS, reads the same key.
 *
 * @example
 * ```ts
 * req[REQUEST_ID_KEY] = resolveRequestId(req.headers, conventions);
 * ```
 */
export const REQUEST_ID_KEY: unique symbol = Symbol.for('gateway-errors.request-id');

/** A request that may carry the stashed request ID. */
export type RequestIdStash = { [REQUEST_ID_KEY]?: string | undefined };
