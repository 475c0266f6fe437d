/**
 * The stable vocabulary: problem codes, their statuses, titles and the generic
 * details that production responses use instead of an error's own message.
 */

/** Codes the core assigns to failures of something behind the service. */
export type UpstreamCode =
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_CONNECTION_LOST'
  | 'UPSTREAM_TLS_FAILURE'
  | 'UPSTREAM_BAD_RESPONSE'
  | 'UPSTREAM_ERROR_STATUS'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_UNAVAILABLE';

/** Every code the built-in classification can produce. Mappers may add their own strings. */
export type ProblemCode = UpstreamCode | 'INTERNAL_ERROR' | 'CLIENT_CLOSED_REQUEST' | ClientErrorCode;

/** Codes of kept 4xx errors, named after their status. */
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[keyof typeof CLIENT_ERROR_CODES];

/**
 * What a "no route matched" handler renders: a kept 404 with a fixed message, so the answer never
 * echoes the request (as `Cannot GET /path` does).
 *
 * @example
 * ```ts
 * app.use((req, res) => writeProblem(res, renderProblem(ROUTE_NOT_FOUND, { method: req.method, url: req.url, headers: req.headers })));
 * ```
 */
export const ROUTE_NOT_FOUND: { readonly status: 404; readonly expose: true; readonly message: string } = Object.freeze({
  status: 404,
  expose: true,
  message: 'No route matches this request.',
});

/**
 * RFC 9209 (Proxy-Status) error types the core names.
 * @see https://www.rfc-editor.org/rfc/rfc9209#section-2.3
 */
export type ProxyErrorType =
  | 'dns_timeout'
  | 'dns_error'
  | 'destination_not_found'
  | 'destination_unavailable'
  | 'destination_ip_prohibited'
  | 'destination_ip_unroutable'
  | 'connection_refused'
  | 'connection_terminated'
  | 'connection_timeout'
  | 'connection_read_timeout'
  | 'connection_write_timeout'
  | 'connection_limit_reached'
  | 'tls_protocol_error'
  | 'tls_certificate_error'
  | 'tls_alert_received'
  | 'http_request_error'
  | 'http_request_denied'
  | 'http_response_incomplete'
  | 'http_response_header_section_size'
  | 'http_response_header_size'
  | 'http_response_body_size'
  | 'http_response_trailer_section_size'
  | 'http_response_trailer_size'
  | 'http_response_transfer_coding'
  | 'http_response_content_coding'
  | 'http_response_timeout'
  | 'http_upgrade_failed'
  | 'http_protocol_error'
  | 'proxy_internal_response'
  | 'proxy_internal_error'
  | 'proxy_configuration_error'
  | 'proxy_loop_detected';

interface CodeInfo {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
}

/**
 * @internal Status, title and generic detail of every code the core assigns: a `Record` over the
 * union, so the compiler keeps it complete. Looked up with any string (a mapper's code), it answers
 * `undefined` for the others. Null-prototype: a code such as `constructor` or `__proto__` finds nothing.
 */
export const CODE_INFO: Readonly<Record<UpstreamCode | 'INTERNAL_ERROR' | 'CLIENT_CLOSED_REQUEST', CodeInfo>> &
  Readonly<Partial<Record<string, CodeInfo>>> = nullPrototype({
  UPSTREAM_UNREACHABLE: {
    status: 502,
    title: 'Upstream Unreachable',
    detail: 'An upstream service could not be reached.',
  },
  UPSTREAM_CONNECTION_LOST: {
    status: 502,
    title: 'Upstream Connection Lost',
    detail: 'The connection to an upstream service was lost before a complete response arrived.',
  },
  UPSTREAM_TLS_FAILURE: {
    status: 502,
    title: 'Upstream TLS Failure',
    detail: 'A secure connection to an upstream service could not be established.',
  },
  UPSTREAM_BAD_RESPONSE: {
    status: 502,
    title: 'Invalid Upstream Response',
    detail: 'An upstream service sent a response that could not be used.',
  },
  UPSTREAM_ERROR_STATUS: {
    status: 502,
    title: 'Upstream Error',
    detail: 'An upstream service answered with an error.',
  },
  UPSTREAM_TIMEOUT: {
    status: 504,
    title: 'Upstream Timeout',
    detail: 'An upstream service did not answer in time.',
  },
  UPSTREAM_UNAVAILABLE: {
    status: 503,
    title: 'Upstream Unavailable',
    detail: 'An upstream service is temporarily unavailable.',
  },
  INTERNAL_ERROR: {
    status: 500,
    title: 'Internal Server Error',
    detail: 'The server encountered an unexpected error.',
  },
  CLIENT_CLOSED_REQUEST: {
    status: 499,
    title: 'Client Closed Request',
    detail: 'The client closed the request before the response was ready.',
  },
});

/** Reason phrases (RFC 9110), used as titles of status-only problems. */
const STATUS_TITLES: Readonly<Record<number, string>> = nullPrototype({
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  418: "I'm a Teapot",
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  510: 'Not Extended',
  511: 'Network Authentication Required',
});

/** @internal */
export const CLIENT_ERROR_CODES = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  407: 'PROXY_AUTHENTICATION_REQUIRED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  410: 'GONE',
  411: 'LENGTH_REQUIRED',
  412: 'PRECONDITION_FAILED',
  413: 'CONTENT_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'RANGE_NOT_SATISFIABLE',
  417: 'EXPECTATION_FAILED',
  418: 'IM_A_TEAPOT',
  421: 'MISDIRECTED_REQUEST',
  422: 'UNPROCESSABLE_CONTENT',
  423: 'LOCKED',
  424: 'FAILED_DEPENDENCY',
  425: 'TOO_EARLY',
  426: 'UPGRADE_REQUIRED',
  428: 'PRECONDITION_REQUIRED',
  429: 'TOO_MANY_REQUESTS',
  431: 'REQUEST_HEADER_FIELDS_TOO_LARGE',
  451: 'UNAVAILABLE_FOR_LEGAL_REASONS',
} as const;

/**
 * @internal The RFC 9209 registry of proxy error types: a mapper's `proxyError` must be one of them.
 * A `Record` over the union, so the compiler keeps it complete.
 */
export const PROXY_ERROR_TYPES: Readonly<Record<ProxyErrorType, true>> = nullPrototype({
  dns_timeout: true,
  dns_error: true,
  destination_not_found: true,
  destination_unavailable: true,
  destination_ip_prohibited: true,
  destination_ip_unroutable: true,
  connection_refused: true,
  connection_terminated: true,
  connection_timeout: true,
  connection_read_timeout: true,
  connection_write_timeout: true,
  connection_limit_reached: true,
  tls_protocol_error: true,
  tls_certificate_error: true,
  tls_alert_received: true,
  http_request_error: true,
  http_request_denied: true,
  http_response_incomplete: true,
  http_response_header_section_size: true,
  http_response_header_size: true,
  http_response_body_size: true,
  http_response_trailer_section_size: true,
  http_response_trailer_size: true,
  http_response_transfer_coding: true,
  http_response_content_coding: true,
  http_response_timeout: true,
  http_upgrade_failed: true,
  http_protocol_error: true,
  proxy_internal_response: true,
  proxy_internal_error: true,
  proxy_configuration_error: true,
  proxy_loop_detected: true,
});

/** @internal Whether a value is an error type of the RFC 9209 registry. */
export function isProxyErrorType(value: unknown): value is ProxyErrorType {
  return typeof value === 'string' && (PROXY_ERROR_TYPES as Record<string, true | undefined>)[value] === true;
}

function nullPrototype<T extends object>(table: T): T {
  return Object.freeze(Object.setPrototypeOf(table, null) as T);
}

/** @internal The code a status-only problem gets: `NOT_FOUND` for 404, `HTTP_4xx` for unnamed ones. */
export function codeForStatus(status: number): string {
  if (status === 500) return 'INTERNAL_ERROR';
  if (status === 499) return 'CLIENT_CLOSED_REQUEST';
  const named = Object.hasOwn(CLIENT_ERROR_CODES, status) ? (CLIENT_ERROR_CODES as Record<number, string>)[status] : undefined;
  if (named !== undefined) return named;
  const title = STATUS_TITLES[status];
  return title === undefined ? `HTTP_${status}` : title.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** @internal */
export function titleForStatus(status: number): string {
  return STATUS_TITLES[status] ?? (status < 500 ? 'Client Error' : 'Server Error');
}

/** @internal `UPSTREAM_TIMEOUT` → `upstream-timeout`, the last segment of a problem `type`. */
export function slugForCode(code: string): string {
  return code.toLowerCase().replace(/_/g, '-');
}
