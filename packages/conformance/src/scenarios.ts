import { ServiceUnavailableError, STALE_HEADERS } from '@gateway-errors/core';
import type { ClassificationOverride } from '@gateway-errors/core';
import { fetchUpstream, withUpstream } from '@gateway-errors/core/upstream';
import type { Faults } from '@gateway-errors/fault-servers';
import axios from 'axios';
import createHttpError from 'http-errors';
import CircuitBreaker from 'opossum';
import { request as undiciRequest } from 'undici';

/** What a route does: call a failing upstream with a real client, and let the error escape. */
export type RouteAction = (faults: Faults) => Promise<unknown>;

/** The request a scenario sends. */
export interface ScenarioRequest {
  readonly method: 'GET' | 'HEAD' | 'POST';
  /** `/s/<name>` unless given: the route every target mounts for the scenario's action. */
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A raw body (sent with its content type in `headers`). */
  readonly body?: string;
}

/** Values of the core's {@link STALE_HEADERS} that a route sets before it fails; any other gets `abandoned`. */
const ABANDONED_VALUES: Readonly<Record<string, string>> = {
  'content-length': '12345',
  'content-encoding': 'gzip',
  'content-range': 'bytes 0-99/1000',
  'content-disposition': 'attachment; filename="orders.csv"',
  'content-language': 'de',
  'content-location': '/orders.csv',
  'content-md5': 'Q2hlY2sgSW50ZWdyaXR5IQ==',
  etag: '"v7"',
  'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT',
  expires: 'Thu, 01 Jan 2037 00:00:00 GMT',
  age: '60',
  pragma: 'cache',
  'accept-ranges': 'bytes',
  // A value no answer of its own has, so a kept one shows.
  'transfer-encoding': 'gzip, chunked',
  location: '/orders/7',
  refresh: '5; url=/orders/7',
};

/**
 * Headers that describe the body a route was about to send: every one of the
 * core's {@link STALE_HEADERS}, and the type and caching the problem sets anew.
 */
export const ABANDONED_HEADERS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(STALE_HEADERS.map((name) => [name, ABANDONED_VALUES[name] ?? 'abandoned'])),
  'content-type': 'text/csv',
  'cache-control': 'public, max-age=3600',
};

/** Headers that hold for any answer to the request: set before the failure, they stay. */
export const KEPT_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': 'https://app.example',
  vary: 'Origin',
  'strict-transport-security': 'max-age=63072000',
};

/** What every target's `/stale/:name` sets before it does the action of `name`. */
export const HEADERS_BEFORE_FAILURE: Readonly<Record<string, string>> = { ...ABANDONED_HEADERS, ...KEPT_HEADERS };

/** What every adapter must answer. */
export interface Expected {
  readonly status: number;
  readonly code: string;
  readonly retryable?: boolean;
  readonly retryAfter?: string;
  readonly proxyStatus?: string;
  readonly contentType?: string;
  /** The request ID the response must carry; `generated` means a fresh UUID. */
  readonly requestId?: string | 'generated';
  readonly detail?: string;
  /** The body carries an `errors` array. */
  readonly errors?: boolean;
  /**
   * The route set {@link HEADERS_BEFORE_FAILURE} before it failed: none of the
   * {@link ABANDONED_HEADERS} may reach the client as set, every one of the {@link KEPT_HEADERS} must.
   */
  readonly headersBeforeFailure?: boolean;
}

export interface Scenario {
  readonly name: string;
  /** The action of the `/s/<name>` route, or of `/s/<action>` when it borrows another scenario's. */
  readonly action?: RouteAction;
  readonly request: ScenarioRequest;
  readonly expected: Expected;
  /**
   * Whether every adapter must give a byte-identical answer. False only where
   * the framework decides the input (its own validation errors).
   */
  readonly identical: boolean;
  /**
   * Why a framework hands its adapter another value than the one the route threw, so that the
   * `err` of the log record differs by framework (the rest of the record may not).
   */
  readonly replacedBy?: string;
}

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';
const breakers = new Map<string, CircuitBreaker>();

/** An opossum breaker that is open, as after a run of failures. */
function openBreaker(): CircuitBreaker {
  let breaker = breakers.get('open');
  if (breaker === undefined) {
    breaker = new CircuitBreaker(async () => 'unreachable', { resetTimeout: 30_000 });
    breaker.open();
    breakers.set('open', breaker);
  }
  return breaker;
}

/** Closes the timers of the breakers the scenarios created. */
export function shutdownScenarios(): void {
  for (const breaker of breakers.values()) breaker.shutdown();
  breakers.clear();
}

const defined: readonly Scenario[] = [
  {
    name: 'refused',
    action: (f) => fetch(`${f.refused}/orders`),
    request: { method: 'POST', headers: { 'x-request-id': 'conf-refused' } },
    expected: { status: 502, code: 'UPSTREAM_UNREACHABLE', retryable: true, proxyStatus: 'gateway-errors; error=connection_refused' },
    identical: true,
  },
  {
    name: 'reset',
    action: (f) => axios.get(`${f.reset}/orders?token=tok-SECRET`, { headers: { authorization: 'Bearer auth-SECRET' } }),
    request: { method: 'POST', headers: { 'x-request-id': 'conf-reset' } },
    expected: { status: 502, code: 'UPSTREAM_CONNECTION_LOST', retryable: false, proxyStatus: 'gateway-errors; error=connection_terminated' },
    identical: true,
  },
  {
    name: 'reset-idempotent',
    action: (f) => axios.get(`${f.reset}/orders`),
    request: { method: 'GET', headers: { 'x-request-id': 'conf-reset-get' } },
    expected: { status: 502, code: 'UPSTREAM_CONNECTION_LOST', retryable: true },
    identical: true,
  },
  {
    name: 'garbage',
    action: (f) => undiciRequest(`${f.garbage}/orders`),
    request: { method: 'GET', headers: { 'x-request-id': 'conf-garbage' } },
    expected: { status: 502, code: 'UPSTREAM_BAD_RESPONSE', proxyStatus: 'gateway-errors; error=http_protocol_error' },
    identical: true,
  },
  {
    name: 'hang-timeout',
    action: (f) => withUpstream('pricing', (signal) => fetch(`${f.hang}/prices`, { signal }), { timeoutMs: 100 }),
    request: { method: 'POST', headers: { 'x-request-id': 'conf-hang' } },
    expected: { status: 504, code: 'UPSTREAM_TIMEOUT', retryable: false, proxyStatus: 'gateway-errors; error=http_response_timeout' },
    identical: true,
  },
  {
    name: 'tls-self-signed',
    action: (f) => fetch(`${f.tls}/orders`),
    request: { method: 'GET', headers: { 'x-request-id': 'conf-tls' } },
    expected: { status: 502, code: 'UPSTREAM_TLS_FAILURE', retryable: false, proxyStatus: 'gateway-errors; error=tls_certificate_error' },
    identical: true,
  },
  {
    name: 'upstream-500',
    action: (f) => axios.get(`${f.status}/status/500`),
    request: { method: 'GET', headers: { 'x-request-id': 'conf-500' } },
    expected: { status: 502, code: 'UPSTREAM_ERROR_STATUS', retryable: true, proxyStatus: 'gateway-errors; received-status=500' },
    identical: true,
  },
  {
    name: 'upstream-404',
    action: (f) => axios.get(`${f.status}/status/404`),
    request: { method: 'GET', headers: { 'x-request-id': 'conf-404' } },
    expected: { status: 502, code: 'UPSTREAM_ERROR_STATUS', retryable: false },
    identical: true,
  },
  {
    name: 'upstream-503',
    action: (f) => fetchUpstream('search', `${f.status}/status/503`),
    request: { method: 'GET', headers: { 'x-request-id': 'conf-503' } },
    expected: { status: 503, code: 'UPSTREAM_UNAVAILABLE', retryable: true, retryAfter: '7' },
    identical: true,
  },
  {
    name: 'breaker-open',
    action: () => openBreaker().fire(),
    request: { method: 'POST', headers: { 'x-request-id': 'conf-breaker' } },
    expected: { status: 503, code: 'UPSTREAM_UNAVAILABLE', retryable: true, retryAfter: '5', proxyStatus: 'gateway-errors; error=destination_unavailable' },
    identical: true,
  },
  {
    name: 'service-unavailable-error',
    action: () => Promise.reject(new ServiceUnavailableError({ upstream: 'search', retryAfter: 30, detail: 'Search is being re-indexed.' })),
    request: { method: 'GET', headers: { 'x-request-id': 'conf-sue' } },
    expected: { status: 503, code: 'UPSTREAM_UNAVAILABLE', retryAfter: '30', detail: 'Search is being re-indexed.' },
    identical: true,
  },
  {
    name: 'http-error-404',
    action: () => Promise.reject(createHttpError(404, 'No such order')),
    request: { method: 'GET', headers: { 'x-request-id': 'conf-http-404' } },
    expected: { status: 404, code: 'NOT_FOUND', retryable: false, detail: 'No such order' },
    identical: true,
  },
  {
    name: 'thrown-null',
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what is rejected is the point of the scenario
    action: () => Promise.reject(null),
    request: { method: 'GET', headers: { 'x-request-id': 'conf-null' } },
    expected: { status: 500, code: 'INTERNAL_ERROR', retryable: false },
    identical: true,
    replacedBy: "Express's router, which passes a falsy rejection on as Error('Rejected promise')",
  },
  {
    name: 'thrown-string',
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what is rejected is the point of the scenario
    action: () => Promise.reject('ECONNREFUSED'),
    request: { method: 'GET', headers: { 'x-request-id': 'conf-string' } },
    expected: { status: 500, code: 'INTERNAL_ERROR', retryable: false },
    identical: true,
  },
  // A 4xx inside what was thrown belongs to another exchange: it decides nothing and shows nothing.
  {
    name: 'buried-404',
    action: () => Promise.reject(new Error('load user failed', { cause: buried404() })),
    request: { method: 'GET', headers: { 'x-request-id': 'conf-buried-404' } },
    expected: { status: 500, code: 'INTERNAL_ERROR', retryable: false },
    identical: true,
  },
  {
    name: 'buried-404-html',
    request: { method: 'GET', path: '/s/buried-404', headers: { 'x-request-id': 'conf-buried-html', accept: 'text/html' } },
    expected: { status: 500, code: 'INTERNAL_ERROR', contentType: 'text/html; charset=utf-8' },
    identical: true,
  },
  {
    name: 'buried-404-text',
    request: { method: 'GET', path: '/s/buried-404', headers: { 'x-request-id': 'conf-buried-text', accept: 'text/plain' } },
    expected: { status: 500, code: 'INTERNAL_ERROR', contentType: 'text/plain; charset=utf-8' },
    identical: true,
  },
  {
    name: 'aggregated-409',
    action: () => Promise.reject(new AggregateError([createHttpError(409, 'buried-SECRET version 7 conflicts')], 'every attempt failed')),
    request: { method: 'POST', headers: { 'x-request-id': 'conf-aggregated-409' } },
    expected: { status: 500, code: 'INTERNAL_ERROR', retryable: false },
    identical: true,
  },
  // A status getter that answers 502 and then something else: read once, the answer is the 502.
  {
    name: 'shifting-status',
    action: () => Promise.reject(shifting(['1,"admin":true', 200, 1000])),
    request: { method: 'GET', headers: { 'x-request-id': 'conf-shifting' } },
    expected: { status: 502, code: 'UPSTREAM_BAD_RESPONSE', retryable: true },
    identical: true,
  },
  // A mapper that answers with values of the wrong type and size (see hostileMapper).
  {
    name: 'hostile-mapper',
    action: () => Promise.reject(Object.assign(new Error('mapped'), { name: HOSTILE })),
    request: { method: 'POST', headers: { 'x-request-id': 'conf-hostile-mapper' } },
    expected: { status: 503, code: 'SERVICE_UNAVAILABLE', retryable: true, retryAfter: '5' },
    identical: true,
  },
  // Headers set before the failure: those of the abandoned body go, CORS, Vary and HSTS stay.
  {
    name: 'stale-headers',
    request: { method: 'GET', path: '/stale/refused', headers: { 'x-request-id': 'conf-stale' } },
    expected: { status: 502, code: 'UPSTREAM_UNREACHABLE', retryable: true, headersBeforeFailure: true },
    identical: true,
  },
  {
    name: 'stale-headers-4xx',
    request: { method: 'GET', path: '/stale/http-error-404', headers: { 'x-request-id': 'conf-stale-4xx' } },
    expected: { status: 404, code: 'NOT_FOUND', detail: 'No such order', headersBeforeFailure: true },
    identical: true,
  },
  {
    name: 'head',
    request: { method: 'HEAD', path: '/s/reset-idempotent', headers: { 'x-request-id': 'conf-head' } },
    expected: { status: 502, code: 'UPSTREAM_CONNECTION_LOST' },
    identical: true,
  },
  {
    name: 'accept-html',
    request: { method: 'GET', path: '/s/refused', headers: { 'x-request-id': 'conf-html', accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } },
    expected: { status: 502, code: 'UPSTREAM_UNREACHABLE', contentType: 'text/html; charset=utf-8' },
    identical: true,
  },
  {
    name: 'hostile-request-id',
    request: { method: 'GET', path: '/s/upstream-500', headers: { 'x-request-id': '<script>alert(1)</script>' } },
    expected: { status: 502, code: 'UPSTREAM_ERROR_STATUS', requestId: 'generated' },
    identical: true,
  },
  {
    name: 'no-request-id',
    request: { method: 'GET', path: '/s/upstream-500' },
    expected: { status: 502, code: 'UPSTREAM_ERROR_STATUS', requestId: 'generated' },
    identical: true,
  },
  {
    name: 'route-not-found',
    request: { method: 'GET', path: '/no/such/route', headers: { 'x-request-id': 'conf-404-route' } },
    expected: { status: 404, code: 'NOT_FOUND', detail: 'No route matches this request.' },
    identical: true,
  },
  {
    name: 'malformed-json',
    request: { method: 'POST', path: '/orders', headers: { 'x-request-id': 'conf-json', 'content-type': 'application/json' }, body: '{"name": ' },
    expected: { status: 400, code: 'BAD_REQUEST', retryable: false },
    identical: false,
  },
  {
    name: 'validation',
    request: { method: 'POST', path: '/orders', headers: { 'x-request-id': 'conf-validation', 'content-type': 'application/json' }, body: '{"name": {"first": "Ada"}}' },
    expected: { status: 400, code: 'BAD_REQUEST', errors: true },
    identical: false,
  },
  {
    name: 'unsupported-media-type',
    request: { method: 'POST', path: '/orders', headers: { 'x-request-id': 'conf-415', 'content-type': 'application/x-unknown' }, body: 'name=x' },
    expected: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    identical: false,
  },
  {
    name: 'too-large',
    request: { method: 'POST', path: '/orders', headers: { 'x-request-id': 'conf-413', 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(200_000) }) },
    expected: { status: 413, code: 'CONTENT_TOO_LARGE' },
    identical: false,
  },
];

/** An application's 404 with field errors, its message and fields not meant for this client. */
function buried404(): Error {
  return Object.assign(new Error('buried-SECRET user 42 is not visible'), {
    status: 404,
    errors: [{ pointer: '#/user', detail: 'buried-SECRET field' }],
  });
}

/** A branded error whose `status` answers 502 on the first read and the next of `later` on each other one. */
function shifting(later: readonly unknown[]): Error {
  const error = new Error('shifting status');
  let reads = 0;
  Object.defineProperty(error, Symbol.for('gateway-errors.upstream-error'), { value: true });
  Object.defineProperty(error, 'status', { get: () => (reads++ === 0 ? 502 : later[(reads - 2) % later.length]) });
  return error;
}

const HOSTILE = 'HostileMapperProbe';

/**
 * A mapper of the organisation's conventions that answers an error named {@link HOSTILE} with values
 * of the wrong type, shape and size: each must be dropped or capped, never reach the wire as it is.
 */
export function hostileMapper(error: unknown): ClassificationOverride | undefined {
  if (!(error instanceof Error) || error.name !== HOSTILE) return undefined;
  let calls = 0;
  return {
    status: 503,
    retryable: 'false,"admin":true' as never,
    proxyError: 'destination_unavailable\r\nSet-Cookie: admin=1' as never,
    detail: { toString: () => (calls++ === 0 ? 'plain' : '","admin":true,"x":"') } as never,
    title: 'Unavailable'.repeat(100_000),
    errors: Array.from({ length: 100_000 }, () => ({ pointer: `#/${'p'.repeat(2000)}`, detail: 'field'.repeat(1000) })),
    upstream: 'buried-SECRET'.repeat(1000),
  };
}

/** Every scenario, with the defaults of its expectations filled in: problem+json, and the request ID it sent. */
export const scenarios: readonly Scenario[] = defined.map((scenario) => {
  const sent = scenario.request.headers?.['x-request-id'];
  return {
    ...scenario,
    expected: { contentType: PROBLEM_JSON, ...(sent === undefined ? {} : { requestId: sent }), ...scenario.expected },
  };
});

/** The deadline of the routes that the fault and load tests send to a hanging or slow upstream: short, so they stay fast. */
export const SHORT_DEADLINE_MS = 25;

/** Route actions that no conformance scenario sends, for the fault and load tests. */
const routeOnly: ReadonlyArray<readonly [string, RouteAction]> = [
  ['hang-short', (f) => withUpstream('pricing', (signal) => fetch(`${f.hang}/prices`, { signal }), { timeoutMs: SHORT_DEADLINE_MS })],
  [
    'late-by-1ms',
    (f) => withUpstream('pricing', (signal) => fetch(`${f.status}/delay/${SHORT_DEADLINE_MS + 1}`, { signal }), { timeoutMs: SHORT_DEADLINE_MS }),
  ],
];

/** The route actions, by name: every target mounts `/s/:name` on them. */
export const actions: ReadonlyMap<string, RouteAction> = new Map([
  ...scenarios.flatMap((scenario) => (scenario.action === undefined ? [] : [[scenario.name, scenario.action] as const])),
  ...routeOnly,
]);

/** What every `/stream` and `/started` route sends before its body fails. */
export const FIRST_CHUNK = 'first chunk of the report\n';

/**
 * The body of every `/stream` and `/started` route: a first chunk, then the body of an
 * upstream that announces 100 bytes and closes after 11, so the response fails
 * after its headers and first chunk were sent.
 */
export async function* failingBody(faults: Faults): AsyncGenerator<Uint8Array, void, undefined> {
  yield new TextEncoder().encode(FIRST_CHUNK);
  const upstream = await fetch(`${faults.truncated}/report`);
  if (upstream.body === null) return;
  const reader = upstream.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/** The body `/orders` validates: `{ name: string }`, at most 100 kB. */
export const ORDER_BODY_LIMIT = 100_000;
