import { CODE_INFO, codeForStatus, isProxyErrorType, titleForStatus } from './codes.js';
import type { ProxyErrorType } from './codes.js';
import { readSingleHeader } from './headers.js';
import { BRAND } from './errors.js';
import type { HeadersLike } from './headers.js';
import { field, keep } from './own.js';
import { remoteApiStatus } from './remote-api.js';
import { parseRetryAfter } from './retry-after.js';

/** One failed field of a validation error. */
export interface ProblemFieldError {
  /** JSON Pointer (as a URI fragment, `#/name`) into the request body, when the failure is in the body. */
  readonly pointer?: string | undefined;
  readonly detail: string;
}

/** What the core decided about a failure. */
export interface Classification {
  /** The status this service answers with. */
  readonly status: number;
  /** Stable identifier, such as `UPSTREAM_TIMEOUT`. */
  readonly code: string;
  readonly title: string;
  /** Whether a client may safely send the same request again. */
  readonly retryable: boolean;
  /** Seconds the client should wait before retrying, when known. */
  readonly retryAfter?: number | undefined;
  /** Logical name of the failing dependency, when the application named it. */
  readonly upstream?: string | undefined;
  /** Whether `detail` comes from the error and may be shown to clients (kept 4xx). */
  readonly expose: boolean;
  /** RFC 9209 error type for the `Proxy-Status` header. */
  readonly proxyError?: ProxyErrorType | undefined;
  /** `false` only when the request provably never reached the upstream. */
  readonly reachedUpstream: boolean;
  /** The status the upstream answered with, when it answered. */
  readonly upstreamStatus?: number | undefined;
  /** A public detail: an exposed 4xx message or an application-written `detail`. */
  readonly detail?: string | undefined;
  /** Per-field validation failures of a kept 400/422. */
  readonly errors?: readonly ProblemFieldError[] | undefined;
}

/** The parts of a request that classification looks at. */
export interface ClassifyRequest {
  readonly method?: string | undefined;
  readonly headers?: HeadersLike | undefined;
}

/** What a mapper may decide. Returning a `status` or a known `code` takes the decision over; other fields refine the built-in result. */
export type ClassificationOverride = { -readonly [K in keyof Classification]?: Classification[K] };

/**
 * Teaches the core an error it does not know. Called for the thrown value and
 * every error in its `cause` chain, before the built-in rules.
 */
export type ErrorMapper = (error: unknown, request: ClassifyRequest | undefined) => ClassificationOverride | undefined;

/** Options of {@link classify}; {@link defineConventions} produces a superset. */
export interface ClassifyOptions {
  readonly mappers?: readonly ErrorMapper[] | undefined;
  /** Retry-After (seconds) of a 503 or 429 when nothing better is known. Default 5. */
  readonly defaultRetryAfter?: number | undefined;
  /** Largest Retry-After passed on (seconds). Default 120. */
  readonly maxRetryAfter?: number | undefined;
}

/** @internal A partial verdict about one node of the error graph. */
interface Signal {
  status: number;
  code: string;
  proxyError?: ProxyErrorType | undefined;
  reached?: boolean | undefined;
  upstreamStatus?: number | undefined;
  retryAfter?: unknown;
  /** A caller's abort or a plain 500: deeper evidence wins over it. */
  weak?: boolean | undefined;
  /** An application's deliberate 502/503/504 without a specific code: the cause may refine it. */
  refinable?: boolean | undefined;
  /** Sending the same request again would get the same answer. */
  final?: boolean | undefined;
  /** The application named a 502 code on purpose: deeper errors refine only its details. */
  explicitCode?: boolean | undefined;
  expose?: boolean | undefined;
  detail?: string | undefined;
  errors?: ProblemFieldError[] | undefined;
}

const MAX_NODES = 32;
const MAX_DETAIL = 1000;
const MAX_TITLE = 200;
const MAX_POINTER = 500;
const MAX_UPSTREAM = 100;
const MAX_FIELD_ERRORS = 100;
/** A problem code: what a mapper may name, beside the built-in ones. */
const CODE = /^[A-Za-z][A-Za-z0-9_.:-]{0,99}$/;
const PRINTABLE = /^[\x20-\x7e]*$/;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

const UNREACHABLE = 'UPSTREAM_UNREACHABLE';
const LOST = 'UPSTREAM_CONNECTION_LOST';
const TLS = 'UPSTREAM_TLS_FAILURE';
const BAD = 'UPSTREAM_BAD_RESPONSE';
const STATUS = 'UPSTREAM_ERROR_STATUS';
const TIMEOUT = 'UPSTREAM_TIMEOUT';
const UNAVAILABLE = 'UPSTREAM_UNAVAILABLE';
const CLOSED = 'CLIENT_CLOSED_REQUEST';

function signal(code: string, proxyError: ProxyErrorType | undefined, reached: boolean): Readonly<Signal> {
  return Object.freeze({ status: CODE_INFO[code]!.status, code, proxyError, reached });
}

const ABORTED: Readonly<Signal> = Object.freeze({ status: 499, code: CLOSED, weak: true, reached: true });
const CONNECT_TIMEOUT = signal(TIMEOUT, 'connection_timeout', false);
const RESPONSE_TIMEOUT = signal(TIMEOUT, 'http_response_timeout', true);
const READ_TIMEOUT = signal(TIMEOUT, 'connection_read_timeout', true);
const TERMINATED = signal(LOST, 'connection_terminated', true);
const INCOMPLETE = signal(LOST, 'http_response_incomplete', true);
const PROTOCOL = signal(BAD, 'http_protocol_error', true);
const CERTIFICATE = signal(TLS, 'tls_certificate_error', false);
const TLS_PROTOCOL = signal(TLS, 'tls_protocol_error', false);
const BREAKER_OPEN = signal(UNAVAILABLE, 'destination_unavailable', false);
const LIMIT_REACHED = signal(UNAVAILABLE, 'connection_limit_reached', false);
const DESTINATION_DOWN = signal(UNAVAILABLE, 'destination_unavailable', true);
const DNS_ERROR = signal(UNREACHABLE, 'dns_error', false);
const UNROUTABLE = signal(UNREACHABLE, 'destination_ip_unroutable', false);

/** String `code`s of Node.js, undici, axios, got, opossum and friends. */
const BY_CODE: ReadonlyMap<string, Readonly<Signal>> = new Map([
  ['ECONNREFUSED', signal(UNREACHABLE, 'connection_refused', false)],
  ['ENOTFOUND', DNS_ERROR],
  ['EAI_NONAME', DNS_ERROR],
  ['EAI_FAIL', DNS_ERROR],
  ['EAI_NODATA', DNS_ERROR],
  ['EAI_AGAIN', signal(UNREACHABLE, 'dns_timeout', false)],
  ['EHOSTUNREACH', UNROUTABLE],
  ['ENETUNREACH', UNROUTABLE],
  ['EHOSTDOWN', UNROUTABLE],
  ['ENETDOWN', UNROUTABLE],
  ['EADDRNOTAVAIL', UNROUTABLE],
  ['ECONNRESET', TERMINATED],
  ['EPIPE', TERMINATED],
  ['UND_ERR_SOCKET', TERMINATED],
  ['UND_ERR_CLOSED', TERMINATED],
  ['ERR_HTTP2_STREAM_ERROR', TERMINATED],
  ['ERR_HTTP2_SESSION_ERROR', TERMINATED],
  ['ERR_HTTP2_GOAWAY_SESSION', TERMINATED],
  ['ERR_STREAM_PREMATURE_CLOSE', INCOMPLETE],
  ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', INCOMPLETE],
  ['EPROTO', TLS_PROTOCOL],
  ['ECONNABORTED', RESPONSE_TIMEOUT],
  ['ESOCKETTIMEDOUT', READ_TIMEOUT],
  ['UND_ERR_CONNECT_TIMEOUT', CONNECT_TIMEOUT],
  ['ERR_SOCKET_CONNECTION_TIMEOUT', CONNECT_TIMEOUT],
  ['UND_ERR_HEADERS_TIMEOUT', RESPONSE_TIMEOUT],
  ['UND_ERR_BODY_TIMEOUT', READ_TIMEOUT],
  ['UND_ERR_INFO', PROTOCOL],
  ['UND_ERR_RES_EXCEEDED_MAX_SIZE', signal(BAD, 'http_response_body_size', true)],
  ['ERR_FR_MAX_BODY_LENGTH_EXCEEDED', signal(BAD, 'http_response_body_size', true)],
  ['ERR_FR_TOO_MANY_REDIRECTS', PROTOCOL],
  ['ERR_BODY_PARSE_FAILURE', PROTOCOL],
  ['EOPENBREAKER', BREAKER_OPEN],
  ['ESHUTDOWN', BREAKER_OPEN],
  ['ESEMLOCKED', LIMIT_REACHED],
  ['ERR_CANCELED', ABORTED],
  ['ABORT_ERR', ABORTED],
  ['ERR_ABORTED', ABORTED],
  ['UND_ERR_ABORTED', ABORTED],
]);

/** `name`s of error classes whose meaning does not depend on a code. */
const BY_NAME: ReadonlyMap<string, Readonly<Signal>> = new Map([
  ['TimeoutError', RESPONSE_TIMEOUT],
  ['AbortError', ABORTED],
  ['HTTPParserError', PROTOCOL],
  ['BrokenCircuitError', BREAKER_OPEN],
  ['IsolatedCircuitError', BREAKER_OPEN],
  ['BulkheadRejectedError', LIMIT_REACHED],
  ['TaskCancelledError', RESPONSE_TIMEOUT],
  // Redis clients (ioredis, node-redis).
  // ioredis rejects queued and already-sent commands alike with it.
  ['MaxRetriesPerRequestError', DESTINATION_DOWN],
  // node-redis: thrown before anything is written.
  ['ClientClosedError', BREAKER_OPEN],
  ['ClientOfflineError', BREAKER_OPEN],
  ['SocketClosedUnexpectedlyError', TERMINATED],
  ['SocketTimeoutError', RESPONSE_TIMEOUT],
  ['ConnectionTimeoutError', CONNECT_TIMEOUT],
  // API SDKs generated by Stainless (OpenAI, Anthropic and others): their own deadline and the caller's abort.
  ['APIConnectionTimeoutError', RESPONSE_TIMEOUT],
  ['APIUserAbortError', ABORTED],
]);

/** Exact messages of clients that throw plain `Error`s. */
const BY_MESSAGE: ReadonlyMap<string, Readonly<Signal>> = new Map([
  // pg
  ['Connection terminated unexpectedly', TERMINATED],
  ['Connection terminated due to connection timeout', CONNECT_TIMEOUT],
  ['timeout expired', CONNECT_TIMEOUT],
  ['timeout exceeded when trying to connect', LIMIT_REACHED],
  ['Query read timeout', RESPONSE_TIMEOUT],
  // ioredis: used for commands already sent as well as queued ones.
  ['Connection is closed.', DESTINATION_DOWN],
  ["Stream isn't writeable and enableOfflineQueue options is false", BREAKER_OPEN],
  ['Command timed out', RESPONSE_TIMEOUT],
  // axios: the body was cut short (a FIN mid-body, or its own timeout firing while reading it).
  ['stream has been aborted', INCOMPLETE],
  // generic-pool (used by many database clients)
  ['ResourceRequest timed out', LIMIT_REACHED],
]);

/** Error-reply classes of ioredis (redis-errors) and node-redis. */
const REDIS_REPLY: ReadonlySet<string> = new Set(['ReplyError', 'ErrorReply', 'SimpleError', 'BlobError', 'RedisError']);
const REDIS_BUSY = /^(?:LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MISCONF)\b/;
const TLS_CERT_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(?:GET|VERIFY|DECRYPT)|HOSTNAME_MISMATCH|INVALID_CA|PATH_LENGTH_EXCEEDED/;

/**
 * Decides status, code and retry guidance for any thrown value. Pure and total:
 * it accepts `null`, strings, frozen objects, Proxies and objects whose getters
 * throw, follows `cause` chains and `AggregateError.errors` (bounded, cycle-safe),
 * and never throws.
 *
 * @example
 * ```ts
 * try { await fetch(url); } catch (err) {
 *   classify(err, { method: 'GET' }); // { status: 502, code: 'UPSTREAM_UNREACHABLE', retryable: true, ... }
 * }
 * ```
 */
export function classify(error: unknown, request?: ClassifyRequest, options?: ClassifyOptions): Classification {
  // Once per call: whether signals must be copied member by member (see `complete`).
  polluted = prototypePolluted();
  try {
    return decide(error, request, options);
  } catch {
    return finish({ status: 500, code: 'INTERNAL_ERROR' }, { request, options });
  }
}

function decide(error: unknown, request: ClassifyRequest | undefined, options: ClassifyOptions | undefined): Classification {
  const nodes = collect(error);
  const mappers = options?.mappers;
  let refinement: ClassificationOverride | undefined;
  if (mappers !== undefined && mappers.length > 0) {
    for (const node of nodes) {
      for (const mapper of mappers) {
        const override = runMapper(mapper, node, request);
        if (override === undefined) continue;
        if (override.status !== undefined || (override.code !== undefined && CODE_INFO[override.code] !== undefined)) {
          return fromOverride(override, nodes, { request, options });
        }
        refinement ??= override;
      }
    }
  }

  let chosen: Signal | undefined;
  let weak: Signal | undefined;
  let upstream: string | undefined;
  let retryAfter: unknown;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    // Only the thrown value itself may be this service's own 4xx (see `ownStatus`).
    const found = inspect(node, i === 0);
    if (upstream === undefined) upstream = upstreamName(node);
    if (found === undefined) continue;
    if (retryAfter === undefined && found.retryAfter !== undefined) retryAfter = found.retryAfter;
    if (chosen !== undefined) {
      // An application's deliberate 502/503/504 keeps its status; a deeper error of the same status says why.
      if (found.status === chosen.status && !found.weak && !found.refinable && (!chosen.explicitCode || found.code === chosen.code)) {
        chosen = {
          ...chosen,
          code: found.code,
          proxyError: found.proxyError,
          reached: found.reached,
          upstreamStatus: chosen.upstreamStatus ?? found.upstreamStatus,
          refinable: false,
        };
        break;
      }
      continue;
    }
    if (found.weak) {
      weak ??= found;
      continue;
    }
    chosen = found;
    if (!found.refinable) break;
  }
  const verdict = chosen ?? weak ?? { status: 500, code: 'INTERNAL_ERROR', proxyError: 'proxy_internal_error' as const };
  const result = finish(
    retryAfter !== undefined && (verdict as Signal).retryAfter === undefined ? { ...verdict, retryAfter } : verdict,
    { request, options, upstream },
  );
  return refinement === undefined ? result : refine(result, refinement, options);
}

/** A mapper's refinement never changes the decided status, and its Retry-After is validated like any other. */
function refine(result: Classification, refinement: ClassificationOverride, options: ClassifyOptions | undefined): Classification {
  const { status: _status, retryAfter, ...rest } = refinement;
  const refined = { ...result, ...rest };
  if (retryAfter === undefined) return refined;
  return { ...refined, retryAfter: parseRetryAfter(retryAfter, { max: options?.maxRetryAfter ?? 120 }) ?? result.retryAfter };
}

/** Flattens the error graph breadth-first: the thrown value, its causes and aggregated errors. */
function collect(error: unknown): unknown[] {
  const nodes: unknown[] = [error];
  for (let i = 0; i < nodes.length && nodes.length < MAX_NODES; i++) {
    const found = nodes[i];
    if (typeof found !== 'object' || found === null) continue;
    const node = found as Record<string, unknown>;
    try {
      const cause = keep(node, 'cause', node['cause']);
      if (cause !== undefined && cause !== null && !nodes.includes(cause)) nodes.push(cause);
      // Stripe's StripeConnectionError keeps the network error as `detail`. This library's errors keep
      // a public text there, read once, where they are inspected.
      const detail = keep(node, BRAND, (node as { [BRAND]?: unknown })[BRAND]) === true ? undefined : keep(node, 'detail', node['detail']);
      if (typeof detail === 'object' && detail !== null && typeof field(detail, 'message') === 'string' && !nodes.includes(detail)) {
        nodes.push(detail);
      }
      const errors = keep(node, 'errors', node['errors']);
      if (Array.isArray(errors) && (node instanceof AggregateError || keep(node, 'name', node['name']) === 'AggregateError')) {
        for (let j = 0; j < errors.length && nodes.length < MAX_NODES; j++) {
          if (!nodes.includes(errors[j])) nodes.push(errors[j]);
        }
      }
    } catch {
      // A throwing getter or Proxy trap: this node has no readable cause.
    }
  }
  return nodes;
}

function inspect(node: unknown, root: boolean): Signal | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  try {
    const found = inspectObject(node as Record<string, unknown>, root);
    return found === undefined ? undefined : complete(found);
  } catch {
    return undefined;
  }
}

/** The optional members of a signal: none may be read from a polluted `Object.prototype`. */
const SIGNAL_MEMBERS: readonly (keyof Signal)[] = [
  'proxyError',
  'reached',
  'upstreamStatus',
  'retryAfter',
  'weak',
  'refinable',
  'final',
  'explicitCode',
  'expose',
  'detail',
  'errors',
];

/** Whether `Object.prototype` holds the name of a signal member, as of the current `classify` call. */
let polluted = false;

function prototypePolluted(): boolean {
  // Named reads of the prototype itself: a few nanoseconds, where `hasOwnProperty` on it costs far more.
  const shared = Object.prototype as Partial<Record<keyof Signal, unknown>>;
  return (
    shared.proxyError !== undefined ||
    shared.reached !== undefined ||
    shared.upstreamStatus !== undefined ||
    shared.retryAfter !== undefined ||
    shared.weak !== undefined ||
    shared.refinable !== undefined ||
    shared.final !== undefined ||
    shared.explicitCode !== undefined ||
    shared.expose !== undefined ||
    shared.detail !== undefined ||
    shared.errors !== undefined
  );
}

/**
 * A signal whose every member is its own, `undefined` where unset, when `Object.prototype` holds one
 * of their names (`Object.prototype.detail`, `.weak`, `.errors`); the signal itself otherwise.
 */
function complete(signal: Signal): Signal {
  if (!polluted) return signal;
  const copy: Signal = { status: signal.status, code: signal.code };
  for (const key of SIGNAL_MEMBERS) (copy as unknown as Record<string, unknown>)[key] = Object.hasOwn(signal, key) ? signal[key] : undefined;
  return copy;
}

function inspectObject(node: Record<string, unknown>, root: boolean): Signal | undefined {
  // The brand is a global symbol: trust it only with a status the error classes can carry.
  if (keep(node, BRAND, (node as { [BRAND]?: unknown })[BRAND]) === true) {
    const status = keep(node, 'status', node['status']);
    if (isUpstreamStatus(status)) return fromUpstreamError(node, status);
  }

  const code = keep(node, 'code', node['code']);
  if (typeof code === 'string' && code.length > 0) {
    const known = codeSignal(code, node);
    if (known !== undefined) return known;
  }

  const message = keep(node, 'message', node['message']);
  if (typeof message === 'string') {
    const byMessage = BY_MESSAGE.get(message);
    if (byMessage !== undefined) return byMessage;
  }

  // What the error is beats the response it carries: got's TimeoutError during a body has a 200 response.
  // node-redis leaves `name` as 'Error' on its own classes: their constructors tell them apart.
  const name = keep(node, 'name', node['name']);
  const kind = name === 'Error' || name === undefined ? constructorName(node) : name;
  if (typeof kind === 'string') {
    const byName = BY_NAME.get(kind);
    if (byName !== undefined) return byName;
    if (REDIS_REPLY.has(kind) && typeof message === 'string' && REDIS_BUSY.test(message)) return DESTINATION_DOWN;
  }

  // Errors of HTTP clients carry the upstream's status, never this service's.
  const upstreamStatus = upstreamResponseStatus(node, code);
  if (upstreamStatus !== undefined) return fromUpstreamStatus(upstreamStatus.status, upstreamStatus.headers);

  if (typeof code === 'number') {
    const details = keep(node, 'details', node['details']);
    if (typeof details === 'string' && typeof keep(node, 'metadata', node['metadata']) === 'object') return grpcSignal(code, details);
  }

  if (keep(node, 'isBrokenCircuitError', node['isBrokenCircuitError']) === true || keep(node, 'isIsolatedCircuitError', node['isIsolatedCircuitError']) === true) return BREAKER_OPEN;
  if (keep(node, 'isBulkheadRejectedError', node['isBulkheadRejectedError']) === true) return LIMIT_REACHED;
  if (keep(node, 'isTaskCancelledError', node['isTaskCancelledError']) === true) return RESPONSE_TIMEOUT;
  return ownStatus(node, root);
}

function constructorName(node: object): string | undefined {
  const name = (Object.getPrototypeOf(node) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' ? name : undefined;
}

function codeSignal(code: string, node: Record<string, unknown>): Signal | undefined {
  if (code === 'ETIMEDOUT') return timeoutSignal(node);
  // axios reports an AbortSignal.timeout() like a caller's abort; its config still holds the signal's reason.
  if (code === 'ERR_CANCELED' && signalTimedOut(keep(node, 'config', node['config']))) return RESPONSE_TIMEOUT;
  const known = BY_CODE.get(code);
  if (known !== undefined) return known as Signal;
  if (code.startsWith('HPE_')) return PROTOCOL;
  if (code.length === 5 && typeof keep(node, 'severity', node['severity']) === 'string') return postgresSignal(code);
  if (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) {
    return code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? CERTIFICATE : TLS_PROTOCOL;
  }
  if (TLS_CERT_CODE.test(code) && /^[A-Z0-9_]+$/.test(code)) return CERTIFICATE;
  return undefined;
}

function signalTimedOut(config: unknown): boolean {
  if (typeof config !== 'object' || config === null) return false;
  const signal = (config as { signal?: { aborted?: unknown; reason?: unknown } }).signal;
  const reason = signal?.aborted === true ? signal.reason : undefined;
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
}

/** ETIMEDOUT means different things: a socket's connect timeout, got's phases, or opossum's own deadline. */
function timeoutSignal(node: Record<string, unknown>): Signal {
  const event = keep(node, 'event', node['event']);
  if (event === 'lookup') return { ...CONNECT_TIMEOUT, proxyError: 'dns_timeout' };
  if (event === 'connect' || event === 'secureConnect') return CONNECT_TIMEOUT;
  if (event === 'socket' || event === 'read') return READ_TIMEOUT;
  const syscall = keep(node, 'syscall', node['syscall']);
  if (syscall === 'connect') return CONNECT_TIMEOUT;
  if (syscall === 'read') return READ_TIMEOUT;
  return RESPONSE_TIMEOUT;
}

/** SQLSTATE classes (PostgreSQL appendix A) that describe the database rather than the query. */
function postgresSignal(sqlstate: string): Signal | undefined {
  if (sqlstate === '57014') return RESPONSE_TIMEOUT;
  if (sqlstate === '53300') return LIMIT_REACHED;
  if (sqlstate.startsWith('53')) return DESTINATION_DOWN;
  if (sqlstate === '57P03') return BREAKER_OPEN;
  if (sqlstate.startsWith('57P')) return DESTINATION_DOWN;
  if (sqlstate === '08001' || sqlstate === '08004') return signal(UNREACHABLE, 'connection_refused', false);
  if (sqlstate.startsWith('08')) return TERMINATED;
  return undefined;
}

/** @grpc/grpc-js status codes. */
function grpcSignal(code: number, details: string): Signal | undefined {
  switch (code) {
    case 0:
      return undefined;
    case 1:
      return ABORTED;
    case 4:
      return RESPONSE_TIMEOUT;
    case 8:
      return { ...LIMIT_REACHED, reached: true };
    case 14:
      return /^(?:No connection established|Name resolution failed|failed to connect)/i.test(details)
        ? BREAKER_OPEN
        : DESTINATION_DOWN;
    case 3: // INVALID_ARGUMENT
    case 5: // NOT_FOUND
    case 6: // ALREADY_EXISTS
    case 7: // PERMISSION_DENIED
    case 9: // FAILED_PRECONDITION
    case 11: // OUT_OF_RANGE
    case 12: // UNIMPLEMENTED
    case 16: // UNAUTHENTICATED
      // The upstream's answer to this very request: sending it again gives the same.
      return { status: 502, code: STATUS, reached: true, final: true };
    default:
      return { status: 502, code: STATUS, reached: true };
  }
}

interface UpstreamStatusInfo {
  status: number;
  headers: unknown;
}

function upstreamResponseStatus(node: Record<string, unknown>, code: unknown): UpstreamStatusInfo | undefined {
  const response = keep(node, 'response', node['response']);
  if (typeof response === 'object' && response !== null && typeof keep(node, 'getResponse', node['getResponse']) !== 'function') {
    const res = response as Record<string, unknown>;
    const own = field(res, 'status');
    const status = typeof own === 'number' ? own : field(res, 'statusCode');
    if (isHttpStatus(status)) {
      return { status, headers: field(res, 'headers') };
    }
  }
  // undici: ResponseStatusCodeError (v5/v6) and the responseError interceptor's ResponseError (v7).
  if (code === 'UND_ERR_RESPONSE_STATUS_CODE' || code === 'UND_ERR_RESPONSE') {
    const status = keep(node, 'statusCode', node['statusCode']);
    if (isHttpStatus(status)) return { status, headers: keep(node, 'headers', node['headers']) };
  }
  return remoteApiStatus(node);
}

function fromUpstreamStatus(status: number, headers: unknown): Signal {
  if (status === 503 || status === 429) {
    return {
      status: 503,
      code: UNAVAILABLE,
      reached: true,
      upstreamStatus: status,
      retryAfter: readSingleHeader(headers as HeadersLike, 'retry-after'),
    };
  }
  if (status === 504) return { status: 504, code: TIMEOUT, reached: true, upstreamStatus: status };
  if (status >= 400) return { status: 502, code: STATUS, reached: true, upstreamStatus: status };
  // The upstream said all was well, yet the client failed: the body was unusable.
  return { ...PROTOCOL, upstreamStatus: status };
}

/** Each field of the error read once: a getter may answer differently on a second read. */
function fromUpstreamError(node: Record<string, unknown>, status: 502 | 503 | 504): Signal {
  const explicit = keep(node, 'code', node['code']);
  const declared = keep(node, 'upstreamStatus', node['upstreamStatus']);
  const upstreamStatus = isHttpStatus(declared) ? declared : undefined;
  const detail = keep(node, 'detail', node['detail']);
  const code =
    typeof explicit === 'string' && Object.hasOwn(EXPLICIT_DEFAULTS, explicit) && CODE_INFO[explicit]!.status === status
      ? explicit
      : status === 502 ? (upstreamStatus === undefined ? BAD : STATUS) : status === 503 ? UNAVAILABLE : TIMEOUT;
  const defaults = EXPLICIT_DEFAULTS[code];
  return {
    status,
    code,
    // The upstream answered: Proxy-Status says what it answered (received-status), not a proxy error.
    proxyError: upstreamStatus !== undefined ? undefined : defaults?.proxyError,
    reached: upstreamStatus !== undefined ? true : defaults?.reached,
    upstreamStatus,
    retryAfter: keep(node, 'retryAfter', node['retryAfter']),
    // A deeper error of the same status may say why: a refused connection, a connect timeout.
    refinable: upstreamStatus === undefined,
    explicitCode: status === 502 && code === explicit,
    detail: typeof detail === 'string' ? truncate(detail) : undefined,
  };
}

/** What an application's error of a given code means when nothing deeper says more. */
const EXPLICIT_DEFAULTS: Readonly<Record<string, Pick<Signal, 'proxyError' | 'reached'>>> = {
  [UNREACHABLE]: { proxyError: 'destination_unavailable', reached: false },
  [LOST]: { proxyError: 'connection_terminated', reached: true },
  [TLS]: { proxyError: 'tls_protocol_error', reached: false },
  [BAD]: { proxyError: 'http_protocol_error', reached: true },
  [STATUS]: { proxyError: undefined, reached: true },
  [TIMEOUT]: { proxyError: 'http_response_timeout', reached: true },
  [UNAVAILABLE]: { proxyError: 'destination_unavailable', reached: undefined },
};

/**
 * Errors meant as this service's own response: http-errors, Boom, NestJS, Hono, Fastify, body-parser.
 * A 4xx is kept only when it is the thrown value itself (`root`): the error the application threw, or
 * the one a framework hands over as the application's own. A 4xx found by walking `cause` or
 * `AggregateError.errors` belongs to some other exchange (a lookup inside a failed step, one of many
 * attempts) and its message was never meant for this client: it decides nothing.
 */
function ownStatus(node: Record<string, unknown>, root: boolean): Signal | undefined {
  let status: unknown;
  let detail: unknown;
  let errors: ProblemFieldError[] | undefined;
  const output = keep(node, 'isBoom', node['isBoom']) === true ? keep(node, 'output', node['output']) : undefined;
  const getStatus = output === undefined ? keep(node, 'getStatus', node['getStatus']) : undefined;
  const getResponse = typeof getStatus === 'function' ? keep(node, 'getResponse', node['getResponse']) : undefined;
  if (typeof output === 'object' && output !== null) {
    status = field(output, 'statusCode');
    const payload = field(output, 'payload');
    detail = typeof payload === 'object' && payload !== null ? field(payload, 'message') : undefined;
  } else if (typeof getStatus === 'function' && typeof getResponse === 'function') {
    status = (getStatus as () => unknown).call(node);
    if (!root && isValidStatus(status) && status < 500) return undefined;
    const response = (getResponse as () => unknown).call(node);
    if (typeof response === 'string') detail = response;
    else if (typeof response === 'object' && response !== null) {
      const message = field(response, 'message');
      if (Array.isArray(message)) {
        // The ValidationPipe's messages: each becomes a field error, and together they are the detail.
        errors = toFieldErrors(message);
        detail = errors.map((error) => error.detail).join('; ');
      } else detail = message;
    }
  } else {
    const own = keep(node, 'status', node['status']);
    status = typeof own === 'number' ? own : keep(node, 'statusCode', node['statusCode']);
  }
  if (!isValidStatus(status)) return undefined;
  if (status >= 500) {
    if (status === 502 || status === 503 || status === 504) {
      return { ...fromUpstreamError({}, status), retryAfter: readSingleHeader(keep(node, 'headers', node['headers']) as HeadersLike, 'retry-after') };
    }
    return status === 500 ? { status, code: 'INTERNAL_ERROR', proxyError: 'proxy_internal_error', weak: true } : { status, code: codeForStatus(status) };
  }
  if (!root) return undefined;
  const expose = keep(node, 'expose', node['expose']) !== false;
  if (expose && typeof getStatus !== 'function' && output === undefined) {
    detail = keep(node, 'message', node['message']);
    const validation = keep(node, 'validation', node['validation']);
    if (Array.isArray(validation)) errors = fastifyValidation(validation, keep(node, 'validationContext', node['validationContext']));
    else {
      const list = keep(node, 'errors', node['errors']);
      if (Array.isArray(list)) errors = fieldErrors(list);
    }
  }
  return {
    status,
    code: codeForStatus(status),
    expose,
    detail: expose && typeof detail === 'string' && detail.length > 0 ? truncate(detail) : undefined,
    // `expose: false` keeps the whole of the error private, its field errors too.
    errors: expose ? errors : undefined,
    retryAfter: status === 429 ? readSingleHeader(keep(node, 'headers', node['headers']) as HeadersLike, 'retry-after') : undefined,
  };
}

function fastifyValidation(validation: unknown[], context: unknown): ProblemFieldError[] {
  const errors: ProblemFieldError[] = [];
  const where = typeof context === 'string' ? truncate(context, MAX_POINTER) : 'body';
  for (const item of validation.slice(0, MAX_FIELD_ERRORS)) {
    if (typeof item !== 'object' || item === null) continue;
    const instancePath = field(item, 'instancePath');
    const text = field(item, 'message');
    // The instance path names a member of the request: an attacker chooses its length.
    const path = typeof instancePath === 'string' ? truncate(instancePath, MAX_POINTER) : '';
    const message = typeof text === 'string' ? text : 'is invalid';
    errors.push(
      where === 'body'
        ? { pointer: `#${path}`, detail: truncate(`${path === '' ? 'body' : path.slice(1)} ${message}`) }
        : { detail: truncate(`${where}${path} ${message}`) },
    );
  }
  return errors;
}

/** `errors: [{ pointer?, detail }]` (or `{ path, message }`) on an application's own 4xx or a mapper's result. */
function fieldErrors(items: readonly unknown[]): ProblemFieldError[] {
  const errors: ProblemFieldError[] = [];
  const count = Math.min(items.length, MAX_FIELD_ERRORS);
  for (let i = 0; i < count; i++) {
    const item = items[i];
    if (typeof item !== 'object' || item === null) continue;
    const own = field(item, 'detail');
    const detail = typeof own === 'string' ? own : field(item, 'message');
    if (typeof detail !== 'string') continue;
    const explicit = field(item, 'pointer');
    const path = explicit === undefined ? field(item, 'path') : undefined;
    const pointer = typeof explicit === 'string' ? explicit : Array.isArray(path) ? pointerOf(path) : undefined;
    errors.push(pointer === undefined ? { detail: truncate(detail) } : { pointer: truncate(pointer, MAX_POINTER), detail: truncate(detail) });
  }
  return errors;
}

/** A JSON Pointer fragment from path segments, bounded before it is built. */
function pointerOf(path: readonly unknown[]): string {
  let pointer = '#';
  for (let i = 0; i < path.length && pointer.length <= MAX_POINTER; i++) {
    const part = path[i];
    const text = typeof part === 'string' ? part.slice(0, MAX_POINTER) : typeof part === 'number' ? String(part) : '';
    pointer += `/${text.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  }
  return pointer;
}

function toFieldErrors(messages: unknown[]): ProblemFieldError[] {
  const errors: ProblemFieldError[] = [];
  for (const message of messages.slice(0, MAX_FIELD_ERRORS)) {
    if (typeof message === 'string') errors.push({ detail: truncate(message) });
  }
  return errors;
}

function upstreamName(node: unknown): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  try {
    const record = node as Record<PropertyKey, unknown>;
    if (keep(record, BRAND, record[BRAND]) !== true) return undefined;
    const name = keep(record, 'upstream', record['upstream']);
    return validUpstream(name);
  } catch {
    return undefined;
  }
}

/** An upstream's logical name: a short, printable string. */
function validUpstream(name: unknown): string | undefined {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_UPSTREAM && PRINTABLE.test(name) ? name : undefined;
}

interface Context {
  readonly request: ClassifyRequest | undefined;
  readonly options: ClassifyOptions | undefined;
  readonly upstream?: string | undefined;
}

function finish(verdict: Signal | { status: number; code: string; proxyError?: ProxyErrorType }, context: Context): Classification {
  const { request, options, upstream } = context;
  const signal = complete(verdict as Signal);
  const { status, code } = signal;
  const reachedUpstream = signal.reached !== false;
  const max = options?.maxRetryAfter ?? 120;
  let retryAfter = signal.retryAfter === undefined ? undefined : parseRetryAfter(signal.retryAfter, { max });
  if (retryAfter === undefined && (status === 503 || status === 429)) retryAfter = Math.min(options?.defaultRetryAfter ?? 5, max);
  return {
    status,
    code,
    title: CODE_INFO[code]?.title ?? titleForStatus(status),
    retryable: isRetryable(signal, reachedUpstream, request),
    retryAfter,
    upstream,
    expose: signal.expose === true,
    proxyError: signal.proxyError,
    reachedUpstream,
    upstreamStatus: isHttpStatus(signal.upstreamStatus) ? signal.upstreamStatus : undefined,
    detail: signal.detail,
    errors: signal.errors,
  };
}

function isRetryable(signal: Signal, reached: boolean, request: ClassifyRequest | undefined): boolean {
  const { status, code } = signal;
  if (status === 503 || status === 429) return true;
  if (status !== 502 && status !== 504) return false;
  if (code === TLS || signal.final === true) return false;
  const upstreamStatus = signal.upstreamStatus;
  if (upstreamStatus !== undefined && upstreamStatus >= 400 && upstreamStatus < 500) return false;
  if (!reached) return true;
  return request !== undefined && isIdempotent(request);
}

/** @internal */
export function isIdempotent(request: ClassifyRequest): boolean {
  const method = typeof request.method === 'string' ? request.method.toUpperCase() : undefined;
  if (method !== undefined && IDEMPOTENT.has(method)) return true;
  const key = readSingleHeader(request.headers, 'idempotency-key');
  return key !== undefined && key.length > 0;
}

/** A mapper's decision: the status and code it chose, every other field refined within the same bounds as a built-in one. */
function fromOverride(override: ClassificationOverride, nodes: unknown[], context: Context): Classification {
  const code = override.code ?? codeForStatus(override.status!);
  const status = override.status ?? CODE_INFO[code]!.status;
  let upstream = override.upstream;
  for (let i = 0; upstream === undefined && i < nodes.length; i++) upstream = upstreamName(nodes[i]);
  const base = finish(
    {
      status,
      code,
      reached: override.reachedUpstream,
      proxyError: override.proxyError,
      retryAfter: override.retryAfter,
      upstreamStatus: override.upstreamStatus,
      expose: override.expose ?? status < 500,
      detail: override.detail,
      errors: override.errors === undefined ? undefined : [...override.errors],
    } as Signal,
    { ...context, upstream },
  );
  return {
    ...base,
    title: override.title ?? base.title,
    retryable: override.retryable ?? base.retryable,
  };
}

/**
 * Runs a mapper and keeps only what it may say, validated and capped like a built-in result: each
 * field of its answer is read once, as an own property, and dropped when it has the wrong type.
 */
function runMapper(mapper: ErrorMapper, node: unknown, request: ClassifyRequest | undefined): ClassificationOverride | undefined {
  try {
    const result = mapper(node, request);
    return typeof result === 'object' && result !== null ? validOverride(result) : undefined;
  } catch {
    return undefined;
  }
}

function validOverride(result: object): ClassificationOverride | undefined {
  // Null-prototype: a member the mapper did not set reads as undefined, whatever Object.prototype holds.
  const override = Object.create(null) as ClassificationOverride;
  const status = field(result, 'status');
  if (isValidStatus(status)) override.status = status;
  const code = field(result, 'code');
  if (typeof code === 'string' && CODE.test(code)) override.code = code;
  const title = field(result, 'title');
  if (typeof title === 'string' && title.length > 0) override.title = truncate(title, MAX_TITLE);
  const retryable = field(result, 'retryable');
  if (typeof retryable === 'boolean') override.retryable = retryable;
  const retryAfter = field(result, 'retryAfter');
  if (typeof retryAfter === 'number' || typeof retryAfter === 'string' || retryAfter instanceof Date) override.retryAfter = retryAfter as number;
  const upstream = validUpstream(field(result, 'upstream'));
  if (upstream !== undefined) override.upstream = upstream;
  const expose = field(result, 'expose');
  if (typeof expose === 'boolean') override.expose = expose;
  const proxyError = field(result, 'proxyError');
  if (isProxyErrorType(proxyError)) override.proxyError = proxyError;
  const reached = field(result, 'reachedUpstream');
  if (typeof reached === 'boolean') override.reachedUpstream = reached;
  const upstreamStatus = field(result, 'upstreamStatus');
  if (isHttpStatus(upstreamStatus)) override.upstreamStatus = upstreamStatus;
  const detail = field(result, 'detail');
  if (typeof detail === 'string' && detail.length > 0) override.detail = truncate(detail);
  const errors = field(result, 'errors');
  if (Array.isArray(errors)) override.errors = fieldErrors(errors);
  return override;
}

function isHttpStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599;
}

function isUpstreamStatus(status: unknown): status is 502 | 503 | 504 {
  return status === 502 || status === 503 || status === 504;
}

function isValidStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599;
}

function truncate(text: string, max = MAX_DETAIL): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
