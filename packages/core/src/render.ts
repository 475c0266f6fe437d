import { classify } from './classify.js';
import type { Classification, ProblemFieldError } from './classify.js';
import { CODE_INFO, codeForStatus, slugForCode, titleForStatus } from './codes.js';
import { resolveConventions } from './conventions.js';
import type { Conventions, ConventionsOptions, ErrorReport } from './conventions.js';
import { describeError } from './describe.js';
import type { ErrorDescription } from './describe.js';
import { readSingleHeader } from './headers.js';
import type { HeadersLike } from './headers.js';
import { keep } from './own.js';
import { isValidRequestId, resolveRequestId } from './request-id.js';

/** The framework-neutral view of a request that adapters hand to the core. */
export interface ProblemRequest {
  /** HTTP method. */
  readonly method?: string | undefined;
  /** The request target (`/orders/7?x=1`) or an absolute URL. Only its path is used. */
  readonly url?: string | undefined;
  readonly headers?: HeadersLike | undefined;
  /** The request ID when the adapter already resolved one; otherwise it is resolved from `headers`. */
  readonly id?: string | undefined;
  /** The adapter's default logger, used when the conventions set no `onError`. */
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
  /** Lower-case header names. Set them over the response's headers after removing {@link STALE_HEADERS}. */
  readonly headers: Readonly<Record<string, string>>;
  /** The serialized body, or `null` for HEAD. */
  readonly body: string | null;
  /** The body's members, unserialized, for answers of another shape (a GraphQL error's `extensions`). */
  readonly members: Readonly<ProblemBody>;
  readonly classification: Classification;
  readonly requestId: string;
}

/**
 * Response headers that describe a body or its caching. Any of them set before
 * the error must go: they belong to the response that was abandoned.
 */
export const STALE_HEADERS: readonly string[] = Object.freeze([
  'content-length',
  'content-encoding',
  'content-range',
  'content-disposition',
  'content-language',
  'content-location',
  'content-md5',
  'etag',
  'last-modified',
  'expires',
  'age',
  'pragma',
  'accept-ranges',
  'transfer-encoding',
  'location',
  'refresh',
]);

type Format = 'json' | 'html' | 'text';

const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  json: 'application/problem+json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

const GENERIC_5XX = 'The server could not complete the request.';
// W3C Trace Context: version 00 is exactly these four fields; later versions may append `-…`.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-|$)/;
const ZEROS = /^0+$/;
const MAX_INSTANCE = 1024;
const METHOD = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}$/;

/**
 * Turns any thrown value into the status, headers and body of an RFC 9457
 * problem response, and reports it to the logging hook. Never throws.
 *
 * @example
 * ```ts
 * const problem = renderProblem(err, { method: req.method, url: req.url, headers: req.headers }, conventions);
 * res.writeHead(problem.status, problem.headers).end(problem.body ?? undefined);
 * ```
 */
export function renderProblem(
  error: unknown,
  request: ProblemRequest,
  conventions?: Conventions | ConventionsOptions,
): Problem {
  const { log, headers: given, id, method: verb, url } = fieldsOf(request);
  const adapterLog = typeof log === 'function' ? (log as (report: ErrorReport) => void) : undefined;
  let config: Conventions;
  try {
    config = resolveConventions(conventions);
  } catch (problem) {
    // Options are validated at start-up by defineConventions; an invalid object here is a programming error.
    config = resolveConventions(undefined);
    report(config, { error: problem, classification: classify(problem), requestId: 'unknown', method: '', path: '' }, adapterLog);
  }
  const headers = headersOf(given);
  const requestId = typeof id === 'string' && isValidRequestId(id, config.requestIdPattern) ? id : resolveRequestId(headers, config);
  const method = methodOf(verb);
  const path = pathOf(typeof url === 'string' ? url : undefined);
  const classification = classify(error, { method, headers }, config);
  report(config, { error, classification, requestId, method, path }, adapterLog);
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
      log: keep(request, 'log', request.log),
    };
  } catch {
    return NO_FIELDS;
  }
}

/** A method as the request line holds it: a short token, else the request is treated as a GET. */
function methodOf(method: unknown): string {
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
    requestId,
    traceId: traceIdOf(context.headers),
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
    [config.requestIdHeader]: requestId,
  };
  if (classification.retryAfter !== undefined && (status === 503 || status === 429 || status === 502 || status === 504)) {
    headers['retry-after'] = String(classification.retryAfter);
  }
  if (config.proxyStatus && status >= 500) {
    const value = proxyStatus(classification, config, development ? body.debug : undefined);
    if (value !== undefined) headers['proxy-status'] = value;
  }
  if (format === 'html') headers['content-security-policy'] = "default-src 'none'";
  return {
    status,
    headers,
    body: context.method === 'HEAD' ? null : serialize(body, format),
    members: body,
    classification,
    requestId,
  };
}

/** Slugs of the codes seen so far: a handful in practice, bounded all the same. */
const SLUGS = new Map<string, string>();

function typeFor(code: string, status: number, typeBase: string): string {
  if (CODE_INFO[code] !== undefined) {
    let slug = SLUGS.get(code);
    if (slug === undefined) {
      slug = slugForCode(code);
      if (SLUGS.size < 64) SLUGS.set(code, slug);
    }
    return typeBase + slug;
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

function serialize(body: ProblemBody, format: Format): string {
  if (format === 'json') return problemJson(body);
  const heading = `${body.status} ${body.title}`;
  const lines = body.errors?.map((entry) => entry.detail) ?? [];
  if (format === 'text') {
    let text = heading;
    if (body.detail !== undefined) text += `\n\n${body.detail}`;
    for (const line of lines) text += `\n- ${line}`;
    text += `\n\nRequest ID: ${body.requestId}\n`;
    if (body.debug !== undefined) text += `\n${JSON.stringify(body.debug, null, 2)}\n`;
    return text;
  }
  let html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(heading)}</title></head><body><h1>${escapeHtml(heading)}</h1>`;
  if (body.detail !== undefined) html += `<p>${escapeHtml(body.detail)}</p>`;
  if (lines.length > 0) html += `<ul>${lines.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`;
  html += `<p>Request ID: <code>${escapeHtml(body.requestId)}</code></p>`;
  if (body.debug !== undefined) html += `<pre>${escapeHtml(JSON.stringify(body.debug, null, 2))}</pre>`;
  return `${html}</body></html>\n`;
}

/**
 * `JSON.stringify(body)`, byte for byte, at half its cost: the members are known, and their
 * strings are nearly always printable ASCII that needs no escaping. Every failing request pays it.
 * @internal
 */
export function problemJson(body: ProblemBody): string {
  let json = `{"type":${jsonString(body.type)},"title":${jsonString(body.title)},"status":${body.status}`;
  if (body.detail !== undefined) json += `,"detail":${jsonString(body.detail)}`;
  if (body.instance !== undefined) json += `,"instance":${jsonString(body.instance)}`;
  json += `,"code":${jsonString(body.code)},"requestId":${jsonString(body.requestId)}`;
  if (body.traceId !== undefined) json += `,"traceId":${jsonString(body.traceId)}`;
  json += `,"retryable":${body.retryable}`;
  if (body.retryAfter !== undefined) json += `,"retryAfter":${JSON.stringify(body.retryAfter)}`;
  if (body.upstream !== undefined) json += `,"upstream":${jsonString(body.upstream)}`;
  if (body.errors !== undefined) json += `,"errors":${JSON.stringify(body.errors)}`;
  if (body.debug !== undefined) json += `,"debug":${JSON.stringify(body.debug)}`;
  return `${json}}`;
}

/** Printable ASCII but `"` and `\`: JSON holds it as it is. */
const JSON_PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function jsonString(text: string): string {
  return JSON_PLAIN.test(text) ? `"${text}"` : JSON.stringify(text);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * problem+json unless the client prefers HTML or plain text. Browsers send
 * `text/html` first; API clients send nothing, `*\/*` or a JSON type.
 */
function negotiate(accept: string | undefined): Format {
  if (accept === undefined || (!accept.includes('html') && !accept.includes('text/plain'))) return 'json';
  let best: Format = 'json';
  let bestQ = 0;
  let bestRank = 0;
  for (const part of accept.split(',', 20)) {
    const [range = '', ...params] = part.split(';');
    const type = range.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key?.trim().toLowerCase() === 'q' && value !== undefined) q = Number(value.trim());
    }
    if (!(q > 0 && q <= 1)) continue;
    const match = formatOf(type);
    if (match === undefined) continue;
    // Same quality: the more specific range wins, then the server's preference (JSON).
    const rank = type === '*/*' ? 1 : type.endsWith('/*') ? 2 : 3;
    if (q > bestQ || (q === bestQ && rank > bestRank)) {
      best = match;
      bestQ = q;
      bestRank = rank;
    }
  }
  return best;
}

function formatOf(type: string): Format | undefined {
  switch (type) {
    case 'application/problem+json':
    case 'application/json':
    case 'application/*':
    case '*/*':
      return 'json';
    case 'text/html':
    case 'application/xhtml+xml':
      return 'html';
    case 'text/plain':
    case 'text/*':
      return 'text';
    default:
      return undefined;
  }
}

function traceIdOf(headers: HeadersLike | undefined): string | undefined {
  const traceparent = readSingleHeader(headers, 'traceparent');
  if (traceparent === undefined) return undefined;
  const match = TRACEPARENT.exec(traceparent);
  if (match === null) return undefined;
  const [, version, traceId, parentId, more] = match;
  if (version === 'ff' || (version === '00' && more !== '') || ZEROS.test(traceId!) || ZEROS.test(parentId!)) return undefined;
  return traceId;
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
  const end = path.search(/[?#]/);
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

function report(config: Conventions, entry: ErrorReport, adapterLog: ((report: ErrorReport) => void) | undefined): void {
  const hook = config.onError === undefined ? (adapterLog ?? logToConsole) : config.onError;
  if (hook === false) return;
  try {
    const result = hook(entry) as unknown;
    if (typeof result === 'object' && result !== null && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(undefined, ignore);
    }
  } catch {
    // A logging hook must never break the response.
  }
}

function ignore(): void {}

/**
 * The default logger of the core: one JSON line on stderr (`console.error`)
 * for every 5xx, with the request ID and the masked error; 4xx and 499 are not logged.
 *
 * @example
 * ```ts
 * defineConventions({ onError: (report) => { metrics.count(report.classification.code); logToConsole(report); } });
 * ```
 */
export function logToConsole(report: ErrorReport): void {
  if (report.classification.status < 500) return;
  console.error(JSON.stringify(toLogEntry(report)));
}

/** A log record for a report: what adapters pass to pino, Nest's Logger or stderr. */
export interface LogEntry {
  readonly level: 'error' | 'warn';
  readonly msg: string;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly code: string;
  readonly upstream?: string | undefined;
  readonly err: ErrorDescription;
}

/**
 * Builds the log record of a report: request ID, method, path, status, code,
 * upstream and the full (masked) error with its causes and stack.
 *
 * @example
 * ```ts
 * onError: (report) => pino.error(toLogEntry(report))
 * ```
 */
export function toLogEntry(report: ErrorReport): LogEntry {
  const { classification } = report;
  return {
    level: classification.status >= 500 ? 'error' : 'warn',
    msg: `${report.method} ${report.path} failed: ${classification.status} ${classification.code}`,
    requestId: report.requestId,
    method: report.method,
    path: report.path,
    status: classification.status,
    code: classification.code,
    upstream: classification.upstream,
    err: describeError(report.error),
  };
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
