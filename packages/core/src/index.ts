/**
 * @module
 * The framework-free engine of gateway-errors: it decides which status, which
 * headers and which RFC 9457 body a failure gets, how it is written onto a
 * response and what is logged. Runtime-neutral: Web APIs only.
 */
export { classify } from './classify.js';
export type {
  Classification,
  ClassificationOverride,
  ClassifyOptions,
  ClassifyRequest,
  ErrorMapper,
  ProblemFieldError,
} from './classify.js';
export { ROUTE_NOT_FOUND } from './codes.js';
export type { ClientErrorCode, ProblemCode, ProxyErrorType, UpstreamCode } from './codes.js';
export { defineConventions } from './conventions.js';
export type { Conventions, ConventionsOptions, InstanceMapper, Mode } from './conventions.js';
export { describeError, describeForLog, maskSecrets } from './describe.js';
export type { ErrorDescription, LoggedCause, LoggedError } from './describe.js';
export {
  BadGatewayError,
  GatewayTimeoutError,
  isUpstreamError,
  ServiceUnavailableError,
  UpstreamError,
} from './errors.js';
export type { BadGatewayCode, UpstreamErrorInit, UpstreamErrorOptions, UpstreamStatus } from './errors.js';
export type { HeadersLike, HeaderValue } from './headers.js';
export { currentHop, forwardHeaders, hopOf, sharedHopStore, upstreamRequestId } from './hop.js';
export type { Hop, HopStore } from './hop.js';
export { logToConsole, logWith, toLogEntry } from './log.js';
export type { ErrorHook, ErrorReport, LogEntry, LoggerLike, ProblemObservation, ProblemObserver } from './log.js';
export { writeProblem } from './node-response.js';
export type { NodeResponseLike } from './node-response.js';
export { problemResponse } from './problem-response.js';
export { renderProblem } from './render.js';
export type { Problem, ProblemBody, ProblemRequest } from './render.js';
export { DEFAULT_REQUEST_ID_PATTERN, isValidRequestId, resolveRequestId } from './request-id.js';
export type { RequestIdOptions } from './request-id.js';
export { REQUEST_ID_KEY } from './request-stash.js';
export type { RequestIdStash } from './request-stash.js';
export { parseRetryAfter } from './retry-after.js';
export { applyProblem, STALE_HEADERS } from './sink.js';
export type { ProblemSink, ResponseState } from './sink.js';
export { PROBLEM_SCHEMA, problemResponses, problemSchema } from './openapi.js';
export type {
  JsonSchema,
  OpenApiExample,
  OpenApiHeader,
  OpenApiResponse,
  OpenApiVersion,
  ProblemResponsesOptions,
  ProblemResponseStatus,
} from './openapi.js';
