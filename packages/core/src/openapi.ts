/**
 * The problem body as a contract: its JSON Schema, and the OpenAPI response objects of the statuses
 * the core answers with. Plain objects, built from the same vocabulary the core renders from, so the
 * document cannot drift from the answers.
 */
import { CLIENT_ERROR_CODES, CODE_INFO, PROXY_ERROR_TYPES, titleForStatus } from './codes.js';
import { resolveConventions } from './conventions.js';
import type { Conventions, ConventionsOptions } from './conventions.js';
import { typeFor } from './render.js';

/** A JSON Schema (2020-12, or the OpenAPI 3.0 subset) as a plain object. */
export interface JsonSchema {
  readonly [keyword: string]: unknown;
}

/** An OpenAPI Header Object. */
export interface OpenApiHeader {
  readonly description: string;
  readonly required?: boolean;
  readonly schema: JsonSchema;
}

/** An OpenAPI Example Object. */
export interface OpenApiExample {
  readonly summary: string;
  readonly value: unknown;
}

/** An OpenAPI Response Object, as `problemResponses()` makes it. */
export interface OpenApiResponse {
  readonly description: string;
  readonly headers: Readonly<Record<string, OpenApiHeader>>;
  readonly content: Readonly<
    Record<string, { readonly schema: JsonSchema; readonly examples: Readonly<Record<string, OpenApiExample>> }>
  >;
}

/** The OpenAPI versions whose Schema Objects differ: 3.1 is JSON Schema 2020-12, 3.0 a subset of draft 5. */
export type OpenApiVersion = '3.0' | '3.1';

/** The statuses `problemResponses()` documents. */
export type ProblemResponseStatus = 400 | 404 | 422 | 429 | 500 | 502 | 503 | 504;

export interface ProblemResponsesOptions {
  /** Which OpenAPI the objects are for. Default `'3.1'`. */
  readonly openapi?: OpenApiVersion | undefined;
  /** Default `[502, 503, 504]`: what a failure behind the service answers. */
  readonly statuses?: readonly ProblemResponseStatus[] | undefined;
  /**
   * A `$ref` to the problem schema registered once in the document (`'#/components/schemas/Problem'`),
   * used instead of the schema inline in every response.
   */
  readonly schemaRef?: string | undefined;
}

const MEDIA_TYPE = 'application/problem+json';

const UPSTREAM_CODES = Object.keys(CODE_INFO);
/** Every code the built-in classification assigns; a mapper may add its own. */
const KNOWN_CODES: readonly string[] = [...UPSTREAM_CODES, ...Object.values(CLIENT_ERROR_CODES)];

const DEBUG_ERROR = {
  name: { type: 'string' },
  message: { type: 'string', description: 'The error message, secrets masked.' },
  code: { anyOf: [{ type: 'string' }, { type: 'number' }] },
  stack: { type: 'array', items: { type: 'string' } },
  upstream: {
    type: 'object',
    properties: {
      status: { type: 'integer' },
      url: { type: 'string', description: 'The upstream URL, credentials and secrets masked.' },
      requestId: { type: 'string', description: "The upstream's own request ID, from its answer's headers." },
    },
    additionalProperties: true,
  },
} as const;

function schemaOf(openapi: OpenApiVersion | 'json-schema'): JsonSchema {
  // OpenAPI 3.0 has no `examples` array in a Schema Object: one `example` instead.
  const examples = (values: readonly unknown[]) => (openapi === '3.0' ? { example: values[0] } : { examples: values });
  const schema = {
    title: 'Problem',
    description:
      'An RFC 9457 problem details object as gateway-errors sends it (application/problem+json). Members other than these may be added: clients must ignore those they do not know.',
    type: 'object',
    required: ['type', 'title', 'status', 'code', 'requestId', 'retryable'],
    properties: {
      type: {
        type: 'string',
        format: 'uri-reference',
        description: "The problem type: the conventions' typeBase and the code in kebab case, or about:blank for a status-only problem.",
        ...examples(['urn:gateway-errors:upstream-timeout']),
      },
      title: { type: 'string', description: 'A short summary of the problem type.', ...examples(['Upstream Timeout']) },
      status: { type: 'integer', minimum: 400, maximum: 599, description: 'The HTTP status of this answer.' },
      detail: { type: 'string', description: 'A fixed sentence per code for 5xx; the message of an exposed 4xx.' },
      instance: {
        type: 'string',
        format: 'uri-reference',
        description: 'The request path, without its query string, percent-encoded.',
        ...examples(['/orders/7']),
      },
      code: {
        type: 'string',
        minLength: 1,
        description: `The stable identifier of the problem. Built in: ${KNOWN_CODES.join(', ')}. A service's mappers may add their own.`,
        ...examples(KNOWN_CODES),
      },
      proxyStatus: {
        type: 'string',
        enum: Object.keys(PROXY_ERROR_TYPES),
        description:
          'On 5xx: the RFC 9209 error type, the phase of the hop that failed. Absent when the upstream answered with an error status of its own.',
      },
      requestId: {
        type: 'string',
        minLength: 1,
        description: 'The request ID, as in the request-ID header: quote it when reporting the problem.',
        ...examples(['0e5cbd52-8e4c-4bb2-9c8f-2e4b7c3a1f60']),
      },
      traceId: {
        type: 'string',
        pattern: '^[0-9a-f]{32}$',
        description: 'The W3C trace ID of the request, when it is traced.',
      },
      retryable: {
        type: 'boolean',
        description:
          'Whether the same request may be sent again: false when the upstream may have acted on a request that is not idempotent.',
      },
      retryAfter: {
        type: 'integer',
        minimum: 0,
        description: 'Seconds to wait before a retry, as in the Retry-After header.',
      },
      upstream: { type: 'string', description: 'The name of the upstream that failed (development, or with exposeUpstream).' },
      errors: {
        type: 'array',
        description: 'The validation failures of a 400 or 422.',
        items: {
          type: 'object',
          required: ['detail'],
          properties: {
            pointer: { type: 'string', description: 'A JSON Pointer (as a URI fragment, #/name) into the request body.' },
            detail: { type: 'string' },
          },
          additionalProperties: true,
        },
      },
      debug: {
        type: 'object',
        description: 'Development only, never sent in production: the error, its causes and the upstream, secrets masked.',
        required: ['name', 'message'],
        properties: {
          ...DEBUG_ERROR,
          causes: {
            type: 'array',
            description: 'The errors that caused this one, outermost first.',
            items: { type: 'object', properties: DEBUG_ERROR, additionalProperties: true },
          },
        },
        additionalProperties: true,
      },
    },
    // No serializer may strip a member it does not know (fast-json-stringify drops them without it).
    additionalProperties: true,
  };
  return openapi === 'json-schema'
    ? { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'urn:gateway-errors:schema:problem', ...schema }
    : schema;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/**
 * The JSON Schema (2020-12) of every problem body the suite sends: RFC 9457's members and each extension
 * member, with `additionalProperties: true`. A frozen plain object; validate with any 2020-12 validator.
 *
 * @example
 * ```ts
 * import Ajv from 'ajv/dist/2020.js';
 * const isProblem = new Ajv({ strict: false }).compile(PROBLEM_SCHEMA);
 * ```
 */
export const PROBLEM_SCHEMA: JsonSchema = deepFreeze(schemaOf('json-schema'));

const SCHEMAS: Readonly<Record<OpenApiVersion, JsonSchema>> = {
  '3.1': deepFreeze(schemaOf('3.1')),
  '3.0': deepFreeze(schemaOf('3.0')),
};

/**
 * The problem schema as an OpenAPI Schema Object (no `$schema`, no `$id`): for `components.schemas`,
 * or a framework's route schema. A new object on every call: tools that annotate schemas in place may.
 */
export function problemSchema(openapi: OpenApiVersion = '3.1'): JsonSchema {
  const schema = Object.hasOwn(SCHEMAS, openapi) ? SCHEMAS[openapi] : undefined;
  if (schema === undefined) throw new TypeError(`problemSchema: openapi must be '3.0' or '3.1' (got ${String(openapi)})`);
  return structuredClone(schema);
}

interface ExampleSpec {
  readonly code: string;
  readonly summary: string;
  readonly proxyStatus?: string;
  readonly retryable: boolean;
  /** Seconds; `'default'`: the conventions' `defaultRetryAfter`. */
  readonly retryAfter?: number | 'default';
  readonly errors?: readonly { readonly pointer: string; readonly detail: string }[];
  readonly detail?: string;
}

interface StatusSpec {
  readonly description: string;
  readonly examples: readonly ExampleSpec[];
  readonly retryAfter?: 'always' | 'when-known';
}

const STATUSES: Readonly<Record<ProblemResponseStatus, StatusSpec>> = {
  400: {
    description: 'Bad Request: the request was malformed or did not validate; `errors` lists what failed.',
    examples: [
      {
        code: 'BAD_REQUEST',
        summary: 'A member of the body did not validate',
        retryable: false,
        detail: 'The request body is invalid.',
        errors: [{ pointer: '#/quantity', detail: 'must be a positive integer' }],
      },
    ],
  },
  404: {
    description: 'Not Found.',
    examples: [{ code: 'NOT_FOUND', summary: 'No such resource, or no route', retryable: false, detail: 'No route matches this request.' }],
  },
  422: {
    description: 'Unprocessable Content: the request was understood but its content is not acceptable; `errors` lists what failed.',
    examples: [
      {
        code: 'UNPROCESSABLE_CONTENT',
        summary: 'A member of the body was refused',
        retryable: false,
        detail: 'The order cannot be placed.',
        errors: [{ pointer: '#/items/0/sku', detail: 'is no longer sold' }],
      },
    ],
  },
  429: {
    description: 'Too Many Requests: try again after the time Retry-After gives.',
    retryAfter: 'always',
    examples: [{ code: 'TOO_MANY_REQUESTS', summary: 'Rate limited', retryable: true, retryAfter: 10, detail: 'Too many requests.' }],
  },
  500: {
    description: 'Internal Server Error: a failure of this service, not of anything behind it.',
    examples: [{ code: 'INTERNAL_ERROR', summary: 'A failure of this service', proxyStatus: 'proxy_internal_error', retryable: false }],
  },
  502: {
    description:
      'Bad Gateway: an upstream service could not be reached, lost the connection, failed TLS, or answered with something unusable or an error status.',
    retryAfter: 'when-known',
    examples: [
      { code: 'UPSTREAM_UNREACHABLE', summary: 'The upstream refused the connection', proxyStatus: 'connection_refused', retryable: true },
      { code: 'UPSTREAM_CONNECTION_LOST', summary: 'The connection was reset', proxyStatus: 'connection_terminated', retryable: true },
      { code: 'UPSTREAM_TLS_FAILURE', summary: "The upstream's certificate was refused", proxyStatus: 'tls_certificate_error', retryable: false },
      { code: 'UPSTREAM_BAD_RESPONSE', summary: 'The upstream answered invalid HTTP', proxyStatus: 'http_protocol_error', retryable: true },
      { code: 'UPSTREAM_ERROR_STATUS', summary: 'The upstream answered 500', retryable: true },
    ],
  },
  503: {
    description: 'Service Unavailable: a dependency is unavailable or overloaded (an open circuit breaker, a full pool, an upstream 503). Always with Retry-After.',
    retryAfter: 'always',
    examples: [
      {
        code: 'UPSTREAM_UNAVAILABLE',
        summary: 'A circuit breaker is open',
        proxyStatus: 'destination_unavailable',
        retryable: true,
        retryAfter: 'default',
      },
    ],
  },
  504: {
    description: 'Gateway Timeout: an upstream service did not answer in time.',
    retryAfter: 'when-known',
    examples: [
      { code: 'UPSTREAM_TIMEOUT', summary: 'No answer within the deadline', proxyStatus: 'http_response_timeout', retryable: true },
      { code: 'UPSTREAM_TIMEOUT', summary: 'No connection within the deadline', proxyStatus: 'connection_timeout', retryable: true },
    ],
  },
};

function exampleBody(status: number, spec: ExampleSpec, config: Conventions): Record<string, unknown> {
  const info = CODE_INFO[spec.code];
  const body: Record<string, unknown> = {
    type: typeFor(spec.code, status, config.typeBase),
    title: info?.title ?? titleForStatus(status),
    status,
    detail: spec.detail ?? info?.detail,
    instance: '/orders/7',
    code: spec.code,
  };
  if (spec.proxyStatus !== undefined && config.proxyStatus) body['proxyStatus'] = spec.proxyStatus;
  body['requestId'] = '0e5cbd52-8e4c-4bb2-9c8f-2e4b7c3a1f60';
  body['retryable'] = spec.retryable;
  if (spec.retryAfter !== undefined) body['retryAfter'] = spec.retryAfter === 'default' ? config.defaultRetryAfter : spec.retryAfter;
  if (spec.errors !== undefined) body['errors'] = spec.errors;
  return body;
}

function headersFor(status: number, spec: StatusSpec, config: Conventions): Record<string, OpenApiHeader> {
  const headers: Record<string, OpenApiHeader> = {
    [config.requestIdHeader]: {
      description: 'The request ID, as in the body: quote it when reporting the problem.',
      required: true,
      schema: { type: 'string' },
    },
    'Cache-Control': { description: 'Never stored: an outage is not cached.', required: true, schema: { type: 'string', enum: ['no-store'] } },
  };
  if (spec.retryAfter !== undefined) {
    headers['Retry-After'] = {
      description: 'Seconds to wait before trying again.',
      required: spec.retryAfter === 'always',
      schema: { type: 'integer', minimum: 0 },
    };
  }
  if (status >= 500 && config.proxyStatus) {
    headers['Proxy-Status'] = {
      description: 'RFC 9209: which hop failed and how (`error=connection_refused`, or `received-status=503`).',
      required: true,
      schema: { type: 'string' },
    };
  }
  return headers;
}

const DEFAULT_STATUSES: readonly ProblemResponseStatus[] = [502, 503, 504];

/**
 * OpenAPI Response Objects for the statuses a route can fail with, keyed by status: the problem schema,
 * the request-ID, `Cache-Control`, `Retry-After` and `Proxy-Status` headers, and an example per code,
 * all as the given conventions render them. Spread them into an operation's `responses`.
 *
 * @example
 * ```ts
 * paths['/orders/{id}'].get.responses = { '200': ok, ...problemResponses(conventions) };
 * ```
 */
export function problemResponses(
  conventions?: Conventions | ConventionsOptions,
  options: ProblemResponsesOptions = {},
): Record<string, OpenApiResponse> {
  const config = resolveConventions(conventions);
  const { openapi = '3.1', statuses = DEFAULT_STATUSES, schemaRef } = options;
  if (schemaRef !== undefined && (typeof schemaRef !== 'string' || schemaRef === '')) {
    throw new TypeError('problemResponses: schemaRef must be a non-empty string');
  }
  if (!Array.isArray(statuses)) throw new TypeError('problemResponses: statuses must be an array of statuses');
  const table: Readonly<Partial<Record<number, StatusSpec>>> = STATUSES;
  const responses: Record<string, OpenApiResponse> = {};
  for (const status of statuses) {
    const spec = typeof status === 'number' && Object.hasOwn(table, status) ? table[status] : undefined;
    if (spec === undefined) {
      throw new TypeError(`problemResponses: no response for status ${String(status)} (one of ${Object.keys(STATUSES).join(', ')})`);
    }
    const examples: Record<string, OpenApiExample> = {};
    for (const example of spec.examples) {
      const key = examples[example.code] === undefined ? example.code : `${example.code}_${example.proxyStatus ?? Object.keys(examples).length}`;
      examples[key] = { summary: example.summary, value: exampleBody(status, example, config) };
    }
    responses[String(status)] = {
      description: spec.description,
      headers: headersFor(status, spec, config),
      // A schema object per response: document builders may annotate it in place.
      content: { [MEDIA_TYPE]: { schema: schemaRef === undefined ? problemSchema(openapi) : { $ref: schemaRef }, examples } },
    };
  }
  return responses;
}
