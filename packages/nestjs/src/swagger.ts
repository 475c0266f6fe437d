/**
 * @module
 * OpenAPI for the NestJS adapter, with `@nestjs/swagger`: {@link ApiUpstreamResponses} documents the
 * problem answers a route (or every route of a controller) gives when something behind it fails, as
 * the core renders them. Its own entry, so the main one never loads `@nestjs/swagger`.
 */
import { problemResponses } from '@gateway-errors/core';
import type { Conventions, ConventionsOptions, OpenApiVersion, ProblemResponseStatus } from '@gateway-errors/core';
import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';

export { PROBLEM_SCHEMA, problemSchema } from '@gateway-errors/core';
export type { Conventions, ConventionsOptions, JsonSchema, OpenApiVersion, ProblemResponseStatus } from '@gateway-errors/core';

/** Options of {@link ApiUpstreamResponses}. */
export interface ApiUpstreamResponsesOptions {
  /** The statuses documented. Default `[502, 503, 504]`; also 400, 404, 422, 429 and 500. */
  readonly statuses?: readonly ProblemResponseStatus[] | undefined;
  /**
   * The OpenAPI version of the document (`DocumentBuilder.setOpenAPIVersion()`), which decides the shape
   * of the schema. Default `'3.0'`: `@nestjs/swagger`'s own default, and valid in a 3.1 document too.
   */
  readonly openapi?: OpenApiVersion | undefined;
}

/**
 * A method and class decorator that documents a route's upstream failures: for each status, its
 * description, the request-ID, `Cache-Control`, `Retry-After` and `Proxy-Status` headers, and an
 * `application/problem+json` body with the problem schema and an example per code. Give it the
 * conventions the module was given: decorators run before injection, and the header's name, the
 * `type` URIs and `Proxy-Status` follow them. On a controller it documents every route.
 *
 * @example
 * ```ts
 * import { ApiUpstreamResponses } from '@gateway-errors/nestjs/swagger';
 *
 * @Get(':id')
 * @ApiUpstreamResponses(conventions)
 * findOne(@Param('id') id: string): Promise<Order> { … }
 * ```
 */
export function ApiUpstreamResponses(
  conventions?: Conventions | ConventionsOptions,
  { statuses, openapi = '3.0' }: ApiUpstreamResponsesOptions = {},
): MethodDecorator & ClassDecorator {
  const responses = problemResponses(conventions, { openapi, statuses });
  // As a Response Object's `content`, not `schema` and `examples`: @nestjs/swagger puts those under every
  // media type the route produces (application/json), where the success answer's belong.
  return applyDecorators(
    ...Object.entries(responses).map(([status, response]) => ApiResponse({ status: Number(status), ...response })),
  );
}
