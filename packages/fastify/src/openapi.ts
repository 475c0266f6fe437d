/**
 * The core's problem responses in the shape of a Fastify route's `schema.response`: Fastify compiles
 * them, `@fastify/swagger` documents them.
 */
import { problemResponses } from '@gateway-errors/core';
import type { Conventions, ConventionsOptions, JsonSchema, OpenApiResponse, OpenApiVersion, ProblemResponseStatus } from '@gateway-errors/core';

/** Options of {@link problemResponseSchemas}. */
export interface ProblemResponseSchemasOptions<TStatus extends ProblemResponseStatus = ProblemResponseStatus> {
  /** The statuses the route can fail with. Default `[502, 503, 504]`. */
  readonly statuses?: readonly TStatus[] | undefined;
  /** The OpenAPI version `@fastify/swagger` is set to: `'3.0'` for `3.0.x`. Default `'3.1'`. */
  readonly openapi?: OpenApiVersion | undefined;
}

/** One status of a route's `schema.response`, in the form both Fastify and `@fastify/swagger` read. */
export interface ProblemResponseSchema {
  /** The OpenAPI response's description. */
  readonly description: string;
  /**
   * The response headers, each a JSON Schema carrying its description: `@fastify/swagger` makes a Header
   * Object of each (it has no place for a header's `required`).
   */
  readonly headers: Readonly<Record<string, JsonSchema>>;
  /**
   * `application/problem+json`: the problem schema, which lists every member and admits others
   * (`additionalProperties: true`), and an example per code. Fastify compiles the schema per media type.
   */
  readonly content: OpenApiResponse['content'];
}

/**
 * Route response schemas for the failures gateway-errors answers, keyed by status: spread them into a
 * route's `schema.response`. Each carries the description, the request-ID, `Cache-Control`,
 * `Retry-After` and `Proxy-Status` headers, and the `application/problem+json` schema and examples, as
 * the conventions render them.
 *
 * The plugin's answers are written already serialized, so no response schema can strip a member of
 * them; this schema admits every member all the same, so a problem a route sends as an object keeps
 * them too (fast-json-stringify drops the members a schema does not admit).
 *
 * @example
 * ```ts
 * app.get('/orders/:id', { schema: { response: { 200: Order, ...problemResponseSchemas(conventions) } } }, handler);
 * ```
 */
export function problemResponseSchemas<TStatus extends ProblemResponseStatus = 502 | 503 | 504>(
  conventions?: Conventions | ConventionsOptions,
  options: ProblemResponseSchemasOptions<TStatus> = {},
): Record<TStatus, ProblemResponseSchema> {
  const { statuses, openapi } = options;
  const responses = problemResponses(conventions, { statuses, openapi });
  const schemas: Record<string, ProblemResponseSchema> = {};
  for (const [status, { description, headers, content }] of Object.entries(responses)) {
    const headerSchemas: Record<string, JsonSchema> = {};
    for (const [name, header] of Object.entries(headers)) headerSchemas[name] = { ...header.schema, description: header.description };
    schemas[status] = { description, headers: headerSchemas, content };
  }
  return schemas;
}
