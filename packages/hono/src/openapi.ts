/**
 * @module
 * The problem body in an OpenAPI document, for Hono's OpenAPI tooling: the core's response objects
 * and schema, as they are. They are plain OpenAPI objects, so they fit both `createRoute()` of
 * `@hono/zod-openapi` (its `content[…].schema` takes a Schema Object as well as a Zod schema) and
 * `describeRoute()` of hono-openapi, and this module imports neither: the adapter stays free of zod
 * and of any validator library.
 *
 * @example
 * ```ts
 * const route = createRoute({
 *   method: 'get',
 *   path: '/orders/{id}',
 *   responses: { 200: { description: 'The order', content: { 'application/json': { schema: Order } } }, ...problemResponses(conventions) },
 * });
 * ```
 */
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
