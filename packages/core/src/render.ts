import { classify } from './classify.js';
import type { Classification, ProblemFieldError } from './classify.js';
import { CODE_INFO, codeForStatus, slugForCode, titleForStatus } from './codes.js';
import type { ProxyErrorType } from './codes.js';
import { resolveConventions } from './conventions.js';
import type { Conventions, ConventionsOptions } from './conventions.js';
import { describeError } from './describe.js';
import type { ErrorDescription } from './describe.js';
import { readSingleHeader } from './headers.js';
import type { HeadersLike } from './headers.js';
import { requestTraceId } from './hop.js';
import { observe, report } from './log.js';
import type { ErrorReport, LoggerLike } from './log.js';
import { CONTENT_TYPES, negotiate } from './negotiate.js';
import { keep } from './own.js';
import { isValidRequestId, resolveRequestId } from './request-id.js';
import { HTML_CSP, serialize } from './serialize.js';

// Its home is log.ts; classify.property.test.ts still imports it from here.

/** The framework-neutral view of a request that adapters hand to the core. */
export interface ProblemRequest {
  /** HTTP method. */
  readonly method?: string | undefined;
  /** The request target (`/orders/7?x=1`) or an absolute URL. Only its path is used. */
  readonly url?: string | undefined;
  readonly headers?: HeadersLike | undefined;
  /** The request ID when the adapter already resolved one; otherwise it is resolved from `headers`. */
  readonly id?: string | undefined;
  /**
   * The framework's logger (pino's `request.log`, Nest's `Logger` behind a shim, `console`), used
   * when the conventions set no `onError`: each 5xx once, as the masked log entry. Without one, a
   * JSON line on stderr.
   */
  readonly logger?: LoggerLike | undefined;
  /**
   * A log function, used when the conventions set no `onError` and no `logger` is given.
   * @deprecated Hand over the framework's `logger`: the core decides what is logged.
   */
  readonly log?: ((report: ErrorReport) => void) | undefined;
}

/** An RFC 9457 problem details object, as the JSON body carries it. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string | undefined;
  instance?: string | undefined;
  code: string;
  /**
   * The RFC 9209 error type of a 5xx (`connection_timeout`, `http_response_timeout`,
   * `connection_refused`, `dns_error`, `tls_certificate_error`, …): which phase of the hop failed.
   */
  proxyStatus?: ProxyErrorType | undefined;
  requestId: string;
  traceId?: string | undefined;
  retryable: boolean;
  retryAfter?: number | undefined;
  upstream?: string | undefined;
  errors?: readonly ProblemFieldError[] | undefined;
  debug?: ErrorDescription | undefined;
}

/** Everything an adapter copies onto its response. */
export interface Problem {
  readonly status: number;
  /** Lower-case header names. `applyProblem` sets them over the response's headers, stale ones removed. */
  readonly headers: Readonly<Record<string, string>>;
  /** The serialized body, or `null` for HEAD. */
  readonly body: string | null;
  /** The body's members, unserialized, for answers of another shape (a GraphQL error's `extensions`). */
  readonly members: Readonly<ProblemBody>;
  readonly classification: Classification;
  readonly requestId: string;
}

const GENERIC_5XX = 'The server could not complete the request.';
const MAX_INSTANCE = 1024;
const METHOD = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}$/;

/**
 * Turns any thrown value into the status, headers and body of an RFC 9457
 * problem response, and reports it: to the conventions' `onError`, else to the
 * request's `logger`, else as a JSON line on stderr. Never throws.
 *
 * @example
 * ```ts
 * const problem = renderProblem(err, { method: req.method, url: req.url, headers: req.headers, logger: req.log }, conventions);
 * writeProblem(res, problem);
 * ```
 */
export function renderProblem(
  error: unknown,
  request: ProblemRequest,
  conventions?: Conventions | ConventionsOptions,
): Problem {
  const fields = fieldsOf(request);
  const { headers: given, id, method: verb, url } = fields;
  let config: Conventions;
  try {
    config = resolveConventions(conventions);
  } catch (problem) {
    // Options are validated at start-up by defineConventions; an invalid object here is a programming error.
    config = resolveConventions(undefined);
    report({ error: problem, classification: classify(problem), requestId: 'unknown', method: '', path: '' }, config.onError, fields);
  }
  const headers = headersOf(given);
  const requestId = typeof id === 'string' && isValidRequestId(id, config.requestIdPattern) ? id : resolveRequestId(headers, config);
  const method = methodOf(verb);
  const path = pathOf(typeof url === 'string' ? url : undefined);
  const classification = classify(error, { method, headers }, config);
  report({ error, classification, requestId, method, path }, config.onError, fields);
  if (config.observers.length > 0) observe({ error, classification, requestId, method, path, mode: config.mode }, config.observers);
  try {
    return build(error, classification, { method, path, headers, requestId, config });
  } catch {
    return fallback(classification, requestId, { method, config });
  }
}

const NO_FIELDS: Readonly<Record<keyof ProblemRequest, undefined>> = Object.freeze({
  method: undefined,
  url: undefined,
  headers: undefined,
  id: undefined,
  logger: undefined,
  log: undefined,
});

/** Each field of the request read once, as the adapter's own; nothing from a request that throws. */
function fieldsOf(request: ProblemRequest): Readonly<Record<keyof ProblemRequest, unknown>> {
  if (typeof request !== 'object' || request === null) return NO_FIELDS;
  try {
    return {
      method: keep(request, 'method', request.method),
      url: keep(request, 'url', request.url),
      headers: keep(request, 'headers', request.headers),
      id: keep(request, 'id', request.id),
      logger: keep(request, 'logger', request.logger),
      log: keep(request, 'log', request.log),
    };
  } catch {
    return NO_FIELDS;
  }
}

/** A method as the request line holds it: a short token, else the request is treated as a GET. */
function methodOf(method: unknown): string {
  if (method === 'GET' || method === 'POST' || method === 'HEAD') return method;
  return typeof method === 'string' && METHOD.test(method) ? method.toUpperCase() : 'GET';
}

function headersOf(headers: unknown): HeadersLike | undefined {
  return typeof headers === 'object' && headers !== null ? (headers as HeadersLike) : undefined;
}

interface BuildContext {
  readonly method: string;
  readonly path: string;
  readonly headers: HeadersLike | undefined;
  readonly requestId: string;
  readonly config: Conventions;
}

function isProblemStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599;
}

/** The `instance` member: the request path by default; the conventions may drop or replace it. */
function instanceOf(path: string, instance: Conventions['instance']): string | undefined {
  if (path === '' || instance === false) return undefined;
  if (instance === true) return path;
  try {
    const chosen = instance(path);
    // Whatever the function answers is made a safe URI reference, like the path itself.
    return typeof chosen === 'string' && chosen !== '' ? encodeReference(chosen) : undefined;
  } catch {
    return undefined;
  }
}

function build(error: unknown, classification: Classification, context: BuildContext): Problem {
  const { config, requestId } = context;
  const development = config.mode === 'development';
  const { code } = classification;
  // The classification is the core's own, validated where it was made; the status is checked once more
  // because it reaches the status line and the body unquoted.
  const status = isProblemStatus(classification.status) ? classification.status : 500;
  const detail = classification.detail ?? (status >= 499 ? (CODE_INFO[code]?.detail ?? GENERIC_5XX) : undefined);
  const errors = classification.errors;
  // One literal, in RFC 9457 order; JSON.stringify leaves out the undefined members.
  const body: ProblemBody = {
    type: typeFor(code, status, config.typeBase),
    title: classification.title,
    status,
    detail,
    instance: instanceOf(context.path, config.instance),
    code,
    proxyStatus: status >= 500 && config.proxyStatus ? classification.proxyError : undefined,
    requestId,
    traceId: requestTraceId(readSingleHeader(context.headers, 'traceparent')),
    retryable: classification.retryable,
    retryAfter: classification.retryAfter,
    upstream: development || config.exposeUpstream ? classification.upstream : undefined,
    errors: errors !== undefined && errors.length > 0 ? errors : undefined,
    debug: development ? describeError(error) : undefined,
  };

  const format = negotiate(readSingleHeader(context.headers, 'accept'));
  const headers: Record<string, string> = {
    'content-type': CONTENT_TYPES[format],
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // The form (JSON, HTML, text) was chosen by the Accept header (RFC 9110 §12.5.5).
    vary: 'Accept',
    [config.requestIdHeader]: requestId,
  };
  if (classification.retryAfter !== undefined && (status === 503 || status === 429 || status === 502 || status === 504)) {
    headers['retry-after'] = String(classification.retryAfter);
  }
  if (config.proxyStatus && status >= 500) {
    const value = proxyStatus(classification, config, development ? body.debug : undefined);
    if (value !== undefined) headers['proxy-status'] = value;
  }
  // Nothing may load or run; the page's one style sheet is allowed by its hash.
  if (format === 'html') headers['content-security-policy'] = HTML_CSP;
  return {
    status,
    headers,
    body: context.method === 'HEAD' ? null : serialize(body, format),
    members: body,
    classification,
    requestId,
  };
}

/** The `type` of each code the core assigns, for the last `typeBase` seen: one string, its JSON cached with it. */
const TYPES = new Map<string, { readonly typeBase: string; readonly type: string }>();

/** @internal The `type` member of a problem with this code and status. */
export function typeFor(code: string, status: number, typeBase: string): string {
  if (CODE_INFO[code] !== undefined) {
    const known = TYPES.get(code);
    if (known !== undefined && known.typeBase === typeBase) return known.type;
    const type = typeBase + slugForCode(code);
    // The same string object every time: its serialized form is cached by serialize.ts.
    TYPES.set(code, { typeBase, type });
    return type;
  }
  // Status-only problems (a kept 404, a 501) need no type of their own (RFC 9457 §4.2.1).
  if (code === codeForStatus(status)) return 'about:blank';
  return typeBase + slugForCode(code).replace(/[^a-z0-9._~-]/g, '-');
}

function proxyStatus(classification: Classification, config: Conventions, debug: ErrorDescription | undefined): string | undefined {
  const { proxyError, upstreamStatus } = classification;
  if (proxyError === undefined && upstreamStatus === undefined) return undefined;
  let value = config.proxyName;
  if (proxyError !== undefined) value += `; error=${proxyError}`;
  if (upstreamStatus !== undefined) value += `; received-status=${upstreamStatus}`;
  if (debug !== undefined && debug.message !== '') value += `; details=${sfString(debug.message)}`;
  return value;
}

/** An RFC 8941 sf-string: printable ASCII, with `"` and `\` escaped. */
function sfString(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  return `"${printable.replace(/[\\"]/g, '\\$&')}"`;
}


/** The path of a request target, without query or fragment, percent-encoded where it is not plain URL text. */
function pathOf(url: string | undefined): string {
  if (typeof url !== 'string' || url === '') return '';
  let path = url;
  const scheme = path.indexOf('://');
  if (scheme > 0 && scheme < 10) {
    const slash = path.indexOf('/', scheme + 3);
    path = slash === -1 ? '/' : path.slice(slash);
  }
  const query = path.indexOf('?');
  const fragment = path.indexOf('#');
  const end = query === -1 || (fragment !== -1 && fragment < query) ? fragment : query;
  if (end !== -1) path = path.slice(0, end);
  return encodeReference(path);
}

/** At most {@link MAX_INSTANCE} characters of plain URI text, anything else percent-encoded. */
function encodeReference(text: string): string {
  const cut = text.length > MAX_INSTANCE ? text.slice(0, MAX_INSTANCE) : text;
  return /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%?#]*$/.test(cut) ? cut : cut.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%?#]/g, encodeChar);
}

function encodeChar(char: string): string {
  try {
    return encodeURIComponent(char);
  } catch {
    return '%EF%BF%BD';
  }
}

function fallback(classification: Classification, requestId: string, { method, config }: { method: string; config: Conventions }): Problem {
  const status = classification.status >= 400 && classification.status <= 599 ? classification.status : 500;
  const members: ProblemBody = {
    type: 'about:blank',
    title: titleForStatus(status),
    status,
    code: status >= 500 ? 'INTERNAL_ERROR' : codeForStatus(status),
    requestId,
    retryable: false,
  };
  return {
    status,
    headers: {
      'content-type': CONTENT_TYPES.json,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      [config.requestIdHeader]: requestId,
    },
    body: method === 'HEAD' ? null : JSON.stringify(members),
    members,
    classification,
    requestId,
  };
}
