/**
 * Transport failures: the connection, not the answer. Node.js (`net`, `dns`, `http2`, `tls`), undici
 * and fetch, axios (with follow-redirects), got, the TLS layer, and resilience libraries that refuse
 * work (opossum's breaker and semaphore, cockatiel's breakers, bulkheads and timeouts).
 *
 * A new HTTP client or resilience library: add its string `code`s to `BY_CODE`, its error class
 * names to `TRANSPORT_NAMES`, or (for clients that throw plain `Error`s) its exact messages to
 * `TRANSPORT_MESSAGES`. Each answers with a named signal of signals.ts. A client whose error carries
 * the upstream's status belongs in http-status.ts.
 */
import { keep } from '../own.js';
import {
  ABORTED,
  BODY_SIZE,
  BREAKER_OPEN,
  CERTIFICATE,
  CONNECT_TIMEOUT,
  DNS_ERROR,
  DNS_TIMEOUT,
  INCOMPLETE,
  LIMIT_REACHED,
  PROTOCOL,
  READ_TIMEOUT,
  REFUSED,
  RESPONSE_TIMEOUT,
  TERMINATED,
  TLS_PROTOCOL,
  UNROUTABLE,
} from '../signals.js';
import type { Signal, SignalEntries } from '../signals.js';

/** String `code`s of Node.js, undici, axios, got, opossum and friends. */
const BY_CODE: ReadonlyMap<string, Readonly<Signal>> = new Map([
  ['ECONNREFUSED', REFUSED],
  ['ENOTFOUND', DNS_ERROR],
  ['EAI_NONAME', DNS_ERROR],
  ['EAI_FAIL', DNS_ERROR],
  ['EAI_NODATA', DNS_ERROR],
  ['EAI_AGAIN', DNS_TIMEOUT],
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
  ['UND_ERR_RES_EXCEEDED_MAX_SIZE', BODY_SIZE],
  ['ERR_FR_MAX_BODY_LENGTH_EXCEEDED', BODY_SIZE],
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
export const TRANSPORT_NAMES: SignalEntries = [
  ['TimeoutError', RESPONSE_TIMEOUT],
  ['AbortError', ABORTED],
  ['HTTPParserError', PROTOCOL],
  ['BrokenCircuitError', BREAKER_OPEN],
  ['IsolatedCircuitError', BREAKER_OPEN],
  ['BulkheadRejectedError', LIMIT_REACHED],
  ['TaskCancelledError', RESPONSE_TIMEOUT],
];

/** Exact messages of clients that throw plain `Error`s. */
export const TRANSPORT_MESSAGES: SignalEntries = [
  // axios: the body was cut short (a FIN mid-body, or its own timeout firing while reading it).
  ['stream has been aborted', INCOMPLETE],
];

/**
 * @internal Whether an error is only a wrapper whose cause says what failed: fetch's (undici's)
 * `TypeError: fetch failed` around every network failure. The classifier goes on to its cause without
 * reading the wrapper further.
 */
export function isCauseWrapper(kind: string, message: unknown): boolean {
  return kind === 'TypeError' && message === 'fetch failed';
}

const TLS_CERT_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(?:GET|VERIFY|DECRYPT)|HOSTNAME_MISMATCH|INVALID_CA|PATH_LENGTH_EXCEEDED/;

/** @internal A connection-level string `code` (anything but TLS, which {@link tlsCode} reads). */
export function connectionCode(code: string, node: Record<string, unknown>): Signal | undefined {
  if (code === 'ETIMEDOUT') return timeoutSignal(node);
  // axios reports an AbortSignal.timeout() like a caller's abort; its config still holds the signal's reason.
  if (code === 'ERR_CANCELED' && signalTimedOut(keep(node, 'config', node['config']))) return RESPONSE_TIMEOUT;
  const known = BY_CODE.get(code);
  if (known !== undefined) return known;
  if (code.startsWith('HPE_')) return PROTOCOL;
  return undefined;
}

/** @internal Node.js `ERR_TLS_*`/`ERR_SSL_*` and OpenSSL's certificate codes. */
export function tlsCode(code: string): Signal | undefined {
  if (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) {
    return code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? CERTIFICATE : TLS_PROTOCOL;
  }
  if (TLS_CERT_CODE.test(code) && /^[A-Z0-9_]+$/.test(code)) return CERTIFICATE;
  return undefined;
}

/** @internal cockatiel marks its errors with flags that survive a renamed class. */
export function resilienceFlags(node: Record<string, unknown>): Signal | undefined {
  if (keep(node, 'isBrokenCircuitError', node['isBrokenCircuitError']) === true || keep(node, 'isIsolatedCircuitError', node['isIsolatedCircuitError']) === true) return BREAKER_OPEN;
  if (keep(node, 'isBulkheadRejectedError', node['isBulkheadRejectedError']) === true) return LIMIT_REACHED;
  if (keep(node, 'isTaskCancelledError', node['isTaskCancelledError']) === true) return RESPONSE_TIMEOUT;
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
