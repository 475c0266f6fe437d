/**
 * The classifier's vocabulary. A `Signal` is what one node of the error graph says about a failure;
 * the ladder in classify.ts picks among the signals of all nodes. The named signals below are the
 * words the shape readers (`shapes/*.ts`) answer with: a new client's error almost always means one
 * of them. Also here: the bounds every value taken from an error is held to, and the guard that
 * keeps a polluted `Object.prototype` out of signals.
 */
import type { ProblemFieldError } from './classification.js';
import { CODE_INFO } from './codes.js';
import type { ProxyErrorType, UpstreamCode } from './codes.js';

/** @internal A partial verdict about one node of the error graph. */
export interface Signal {
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

/** @internal Entries of a look-up table by an exact `name` or `message`, one list per family of shapes. */
export type SignalEntries = ReadonlyArray<readonly [string, Readonly<Signal>]>;

export const UNREACHABLE = 'UPSTREAM_UNREACHABLE';
export const LOST = 'UPSTREAM_CONNECTION_LOST';
export const TLS = 'UPSTREAM_TLS_FAILURE';
export const BAD = 'UPSTREAM_BAD_RESPONSE';
export const STATUS = 'UPSTREAM_ERROR_STATUS';
export const TIMEOUT = 'UPSTREAM_TIMEOUT';
export const UNAVAILABLE = 'UPSTREAM_UNAVAILABLE';

function signal(code: UpstreamCode, proxyError: ProxyErrorType | undefined, reached: boolean): Readonly<Signal> {
  return Object.freeze({ status: CODE_INFO[code].status, code, proxyError, reached });
}

/** The caller gave up (its abort, `ERR_CANCELED`): weak, so a deeper cause that says more wins. */
export const ABORTED: Readonly<Signal> = Object.freeze({ status: 499, code: 'CLIENT_CLOSED_REQUEST', weak: true, reached: true });
export const CONNECT_TIMEOUT: Readonly<Signal> = signal(TIMEOUT, 'connection_timeout', false);
export const RESPONSE_TIMEOUT: Readonly<Signal> = signal(TIMEOUT, 'http_response_timeout', true);
export const READ_TIMEOUT: Readonly<Signal> = signal(TIMEOUT, 'connection_read_timeout', true);
export const TERMINATED: Readonly<Signal> = signal(LOST, 'connection_terminated', true);
export const INCOMPLETE: Readonly<Signal> = signal(LOST, 'http_response_incomplete', true);
export const PROTOCOL: Readonly<Signal> = signal(BAD, 'http_protocol_error', true);
export const BODY_SIZE: Readonly<Signal> = signal(BAD, 'http_response_body_size', true);
export const CERTIFICATE: Readonly<Signal> = signal(TLS, 'tls_certificate_error', false);
export const TLS_PROTOCOL: Readonly<Signal> = signal(TLS, 'tls_protocol_error', false);
/** A breaker, a closed client or a server that refuses work: nothing was sent. */
export const BREAKER_OPEN: Readonly<Signal> = signal(UNAVAILABLE, 'destination_unavailable', false);
export const LIMIT_REACHED: Readonly<Signal> = signal(UNAVAILABLE, 'connection_limit_reached', false);
/** The destination is down or busy, and the request may have reached it. */
export const DESTINATION_DOWN: Readonly<Signal> = signal(UNAVAILABLE, 'destination_unavailable', true);
export const REFUSED: Readonly<Signal> = signal(UNREACHABLE, 'connection_refused', false);
export const DNS_ERROR: Readonly<Signal> = signal(UNREACHABLE, 'dns_error', false);
export const DNS_TIMEOUT: Readonly<Signal> = signal(UNREACHABLE, 'dns_timeout', false);
export const UNROUTABLE: Readonly<Signal> = signal(UNREACHABLE, 'destination_ip_unroutable', false);

const MAX_DETAIL = 1000;

/** @internal A text shown to clients or kept in a signal: at most `max` characters, then `…`. */
export function truncate(text: string, max: number = MAX_DETAIL): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** @internal Any HTTP status: what an upstream may have answered. */
export function isHttpStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599;
}

/** @internal A 4xx or 5xx: what an error may carry as its status. */
export function isErrorStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599;
}

/** @internal */
export function isUpstreamStatus(status: unknown): status is 502 | 503 | 504 {
  return status === 502 || status === 503 || status === 504;
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

/** @internal Once per `classify` call: whether signals must be copied member by member (see {@link complete}). */
export function checkPrototype(): void {
  polluted = prototypePolluted();
}

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
 * @internal A signal whose every member is its own, `undefined` where unset, when `Object.prototype`
 * holds one of their names (`Object.prototype.detail`, `.weak`, `.errors`); the signal itself otherwise.
 */
export function complete(signal: Signal): Signal {
  // Kept tiny so that the engine inlines it wherever a signal is returned: the copy is the rare case.
  return polluted ? ownMembers(signal) : signal;
}

function ownMembers(signal: Signal): Signal {
  const copy: Signal = { status: signal.status, code: signal.code };
  for (const key of SIGNAL_MEMBERS) (copy as unknown as Record<string, unknown>)[key] = Object.hasOwn(signal, key) ? signal[key] : undefined;
  return copy;
}
