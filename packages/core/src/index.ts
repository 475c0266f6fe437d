/**
 * @module
 * The framework-free engine of gateway-errors: it decides which status, which
 * headers and which RFC 9457 body a failure gets. Runtime-neutral: Web APIs only.
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
export type { ClientErrorCode, ProblemCode, ProxyErrorType, UpstreamCode } from './codes.js';
export { defineConventions } from './conventions.js';
export type { Conventions, ConventionsOptions, ErrorHook, ErrorReport, InstanceMapper, Mode } from './conventions.js';
export { describeError, maskSecrets } from './describe.js';
export type { ErrorDescription } from './describe.js';
export {
  BadGatewayError,
  GatewayTimeoutError,
  isUpstreamError,
  ServiceUnavailableError,
  UpstreamError,
} from './errors.js';
export type { BadGatewayCode, UpstreamErrorInit, UpstreamErrorOptions, UpstreamStatus } from './errors.js';
export type { HeadersLike, HeaderValue } from './headers.js';
export { logWith, ROUTE_NOT_FOUND, writeProblem } from './node-response.js';
export type { LoggerLike, NodeResponseLike } from './node-response.js';
export { problemResponse } from './problem-response.js';
export { logToConsole, renderProblem, STALE_HEADERS, toLogEntry } from './render.js';
export type { LogEntry, Problem, ProblemBody, ProblemRequest } from './render.js';
export { DEFAULT_REQUEST_ID_PATTERN, isValidRequestId, resolveRequestId } from './request-id.js';
export type { RequestIdOptions } from './request-id.js';
export { parseRetryAfter } from './retry-after.js';
