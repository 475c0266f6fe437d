/**
 * Real clients against real fault servers on 127.0.0.1: every error below is
 * thrown by the library itself, and the classification is asserted against the
 * spec. A failing assertion prints the shape of the real error.
 */
import { request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { IncomingMessage, RequestOptions } from 'node:http';
import axios from 'axios';
import type { AxiosRequestConfig } from 'axios';
import { ConsecutiveBreaker, TimeoutStrategy, bulkhead, circuitBreaker, handleAll, timeout } from 'cockatiel';
import got from 'got';
import type { OptionsOfTextResponseBody as GotOptions } from 'got';
import ky from 'ky';
import type { Options as KyOptions } from 'ky';
import CircuitBreaker from 'opossum';
import { Agent, interceptors, request as undiciRequest } from 'undici';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import type { ClassifyRequest } from './classify.js';
import type { ProxyErrorType } from './codes.js';
import {
  blackhole,
  bodyStallServer,
  finServer,
  garbageServer,
  hangServer,
  refusedPort,
  resetServer,
  statusServer,
  tlsServer,
  truncatedServer,
} from '@gateway-errors/fault-servers';
import type { Blackhole, FaultServer, TlsFaultServer } from '@gateway-errors/fault-servers';
import { fetchUpstream, withUpstream } from './upstream.js';
import type { BreakerLike } from './upstream.js';
import { rejection } from './test-support/rejection.js';

/** Every client's own deadline, in milliseconds. */
const T = 150;
/** A client that has not settled after this long fails the test instead of hanging it. */
const GUARD = 4000;
/** Upper bound of one test. */
const TEST_TIMEOUT = 5000;

// ---------------------------------------------------------------------------
// Expectations (the spec)
// ---------------------------------------------------------------------------

/** When a retry is safe: always, only for an idempotent request, or never. */
type Retry = 'always' | 'idempotent' | 'never';

interface Expected {
  readonly status: number;
  readonly code: string;
  readonly reachedUpstream: boolean;
  /** One value, or the values that are all correct for this failure. */
  readonly proxyError: ProxyErrorType | undefined | readonly (ProxyErrorType | undefined)[];
  readonly retry: Retry;
  readonly upstreamStatus?: number;
  readonly retryAfter?: number;
  readonly upstream?: string;
}

const REFUSED: Expected = { status: 502, code: 'UPSTREAM_UNREACHABLE', reachedUpstream: false, proxyError: 'connection_refused', retry: 'always' };
const DNS: Expected = { status: 502, code: 'UPSTREAM_UNREACHABLE', reachedUpstream: false, proxyError: 'dns_error', retry: 'always' };
const LOST: Expected = { status: 502, code: 'UPSTREAM_CONNECTION_LOST', reachedUpstream: true, proxyError: 'connection_terminated', retry: 'idempotent' };
const TRUNCATED: Expected = { ...LOST, proxyError: ['connection_terminated', 'http_response_incomplete'] };
const PROTOCOL: Expected = { status: 502, code: 'UPSTREAM_BAD_RESPONSE', reachedUpstream: true, proxyError: 'http_protocol_error', retry: 'idempotent' };
const CERTIFICATE: Expected = { status: 502, code: 'UPSTREAM_TLS_FAILURE', reachedUpstream: false, proxyError: 'tls_certificate_error', retry: 'never' };
const RESPONSE_TIMEOUT: Expected = { status: 504, code: 'UPSTREAM_TIMEOUT', reachedUpstream: true, proxyError: 'http_response_timeout', retry: 'idempotent' };
const BODY_TIMEOUT: Expected = { ...RESPONSE_TIMEOUT, proxyError: ['connection_read_timeout', 'http_response_timeout'] };
const CONNECT_TIMEOUT: Expected = { status: 504, code: 'UPSTREAM_TIMEOUT', reachedUpstream: false, proxyError: 'connection_timeout', retry: 'always' };
/**
 * A deadline that carries no phase (an AbortSignal, axios's or ky's single
 * `timeout`) cannot prove that nothing was sent, even when it fired during the
 * TCP handshake: it is an ordinary response timeout.
 */
const PHASELESS_TIMEOUT = RESPONSE_TIMEOUT;
const ABORTED: Expected = { status: 499, code: 'CLIENT_CLOSED_REQUEST', reachedUpstream: true, proxyError: undefined, retry: 'never' };
const BREAKER_OPEN: Expected = { status: 503, code: 'UPSTREAM_UNAVAILABLE', reachedUpstream: false, proxyError: 'destination_unavailable', retry: 'always' };
const LIMIT_REACHED: Expected = { status: 503, code: 'UPSTREAM_UNAVAILABLE', reachedUpstream: false, proxyError: 'connection_limit_reached', retry: 'always' };

/** What an upstream's own answer means. The upstream answered, so no proxy error is named. */
function upstreamStatus(status: number): Expected {
  if (status === 503 || status === 429) {
    return { status: 503, code: 'UPSTREAM_UNAVAILABLE', reachedUpstream: true, proxyError: undefined, retry: 'always', upstreamStatus: status, retryAfter: 7 };
  }
  if (status === 504) return { status: 504, code: 'UPSTREAM_TIMEOUT', reachedUpstream: true, proxyError: undefined, retry: 'idempotent', upstreamStatus: status };
  const retry: Retry = status < 500 ? 'never' : 'idempotent';
  return { status: 502, code: 'UPSTREAM_ERROR_STATUS', reachedUpstream: true, proxyError: undefined, retry, upstreamStatus: status };
}

const GET: ClassifyRequest = { method: 'GET' };
const POST: ClassifyRequest = { method: 'POST' };
const POST_WITH_KEY: ClassifyRequest = { method: 'POST', headers: { 'idempotency-key': 'order-42' } };

function retryable(retry: Retry, request: ClassifyRequest): boolean {
  if (retry !== 'idempotent') return retry === 'always';
  return request !== POST;
}

function requestLabel(request: ClassifyRequest): string {
  return request === POST_WITH_KEY ? 'POST with Idempotency-Key' : (request.method ?? '?');
}

/** Asserts the classification of a real error against the spec, for each request shape. */
function expectClassified(error: unknown, expected: Expected, requests: readonly ClassifyRequest[]): void {
  for (const request of requests) {
    const result = classify(error, request);
    const actual: Record<string, unknown> = {
      status: result.status,
      code: result.code,
      reachedUpstream: result.reachedUpstream,
      proxyError: result.proxyError,
      retryable: result.retryable,
    };
    const wanted: Record<string, unknown> = {
      status: expected.status,
      code: expected.code,
      reachedUpstream: expected.reachedUpstream,
      proxyError: oneOf(expected.proxyError, result.proxyError),
      retryable: retryable(expected.retry, request),
    };
    if (expected.upstreamStatus !== undefined) {
      actual['upstreamStatus'] = result.upstreamStatus;
      wanted['upstreamStatus'] = expected.upstreamStatus;
    }
    if (expected.retryAfter !== undefined) {
      actual['retryAfter'] = result.retryAfter;
      wanted['retryAfter'] = expected.retryAfter;
    }
    if (expected.upstream !== undefined) {
      actual['upstream'] = result.upstream;
      wanted['upstream'] = expected.upstream;
    }
    expect(actual, `classify(error, ${requestLabel(request)}) of ${describeError(error)}`).toEqual(wanted);
  }
}

function oneOf(expected: Expected['proxyError'], actual: ProxyErrorType | undefined): unknown {
  if (!Array.isArray(expected)) return expected;
  return expected.includes(actual) ? actual : `one of ${expected.map(String).join(' | ')}`;
}

// ---------------------------------------------------------------------------
// Error shapes, for failure messages
// ---------------------------------------------------------------------------

const SHAPE_PROPS = ['code', 'errno', 'syscall', 'event', 'type', 'status', 'statusCode', 'isBrokenCircuitError', 'isIsolatedCircuitError', 'isBulkheadRejectedError', 'isTaskCancelledError'];

/** `Ctor(name) code=… msg="…" ← cause …`, following `cause` and `AggregateError.errors`. */
function describeError(error: unknown): string {
  const seen = new Set<unknown>();
  const one = (node: unknown, depth: number): string => {
    if (typeof node !== 'object' || node === null) return JSON.stringify(node) ?? String(node);
    if (seen.has(node) || depth > 6) return '…';
    seen.add(node);
    const record = node as Record<string, unknown>;
    const ctor = (node as { constructor?: { name?: unknown } }).constructor?.name;
    const name = record['name'];
    const parts = [`${typeof ctor === 'string' ? ctor : 'Object'}(${typeof name === 'string' ? name : '-'})`];
    for (const key of SHAPE_PROPS) {
      const value = record[key];
      if (value !== undefined && typeof value !== 'object' && typeof value !== 'function') parts.push(`${key}=${String(value)}`);
    }
    const response = record['response'];
    if (typeof response === 'object' && response !== null) {
      const res = response as Record<string, unknown>;
      parts.push(`response.status=${String(res['status'] ?? res['statusCode'])}`);
    }
    const message = record['message'];
    if (typeof message === 'string') parts.push(`msg=${JSON.stringify(message.slice(0, 100))}`);
    const errors = record['errors'];
    if (Array.isArray(errors) && errors.length > 0) parts.push(`errors=[${errors.map((e) => one(e, depth + 1)).join(', ')}]`);
    const cause = record['cause'];
    if (cause !== undefined) parts.push(`← ${one(cause, depth + 1)}`);
    return parts.join(' ');
  };
  return one(error, 0);
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

type Method = 'GET' | 'POST';

interface Call {
  readonly method: Method;
  /** The client's own response (or overall) timeout option. */
  readonly timeoutMs?: number;
  /** The client's own connect-phase timeout option. */
  readonly connectTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Extra trusted CA (PEM). */
  readonly ca?: string;
  readonly json?: boolean;
}

/** Makes one request and reads the whole body; settles with the body or the client's error. */
type Client = (url: string, call: Call) => Promise<unknown>;

type ClientName = 'fetch' | 'undici.request' | 'node:http' | 'axios' | 'got' | 'ky';

const closables: { close(): Promise<unknown> | void }[] = [];

/**
 * The signal of a call that has no deadline of its own: it ends the request
 * shortly before the guard of {@link rejection}, with a reason no test expects,
 * so a client that hangs fails its test and leaves no request behind.
 */
function harnessSignal(): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('harness guard: the call did not settle')), GUARD - 500).unref();
  return controller.signal;
}

function undiciAgent(call: Call): Agent | undefined {
  if (call.connectTimeoutMs === undefined && call.ca === undefined) return undefined;
  const agent = new Agent({
    connect: {
      ...(call.connectTimeoutMs === undefined ? {} : { timeout: call.connectTimeoutMs }),
      ...(call.ca === undefined ? {} : { ca: call.ca }),
    },
  });
  closables.push({ close: () => agent.destroy().catch(() => {}) });
  return agent;
}

const fetchClient: Client = async (url, call) => {
  if (call.timeoutMs !== undefined) throw new Error('fetch has no timeout option');
  const dispatcher = undiciAgent(call);
  const init = {
    method: call.method,
    ...(call.method === 'POST' ? { body: 'x' } : {}),
    signal: call.signal ?? harnessSignal(),
    // Node's fetch takes an undici dispatcher for connect options.
    ...(dispatcher === undefined ? {} : { dispatcher }),
  };
  const response = await fetch(url, init as RequestInit);
  return call.json === true ? response.json() : response.text();
};

function undiciClient(dispatcher?: Dispatcher): Client {
  return async (url, call) => {
    const agent = dispatcher ?? undiciAgent(call);
    const { body } = await undiciRequest(url, {
      method: call.method,
      ...(call.method === 'POST' ? { body: 'x' } : {}),
      signal: call.signal ?? harnessSignal(),
      ...(call.timeoutMs === undefined ? {} : { headersTimeout: call.timeoutMs, bodyTimeout: call.timeoutMs }),
      ...(agent === undefined ? {} : { dispatcher: agent }),
    });
    return call.json === true ? body.json() : body.text();
  };
}

/**
 * node:http with the documented timeout idiom: the `timeout` option only
 * emits 'timeout', and the request must be destroyed by the caller.
 */
const nodeHttpClient: Client = (url, call) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const options: RequestOptions & { ca?: string } = {
      method: call.method,
      signal: call.signal ?? harnessSignal(),
      ...(call.timeoutMs === undefined ? {} : { timeout: call.timeoutMs }),
      ...(call.ca === undefined ? {} : { ca: call.ca }),
    };
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve(call.json === true ? JSON.parse(text) : text);
        } catch (error) {
          reject(error);
        }
      });
    };
    const req = target.protocol === 'https:' ? httpsRequest(target, options, onResponse) : httpRequest(target, options, onResponse);
    req.on('error', reject);
    if (call.timeoutMs !== undefined) req.on('timeout', () => req.destroy());
    req.end(call.method === 'POST' ? 'x' : undefined);
  });

const axiosClient: Client = async (url, call) => {
  const config: AxiosRequestConfig = {
    url,
    method: call.method,
    proxy: false,
    responseType: call.json === true ? 'json' : 'text',
    // Without this, axios hands back an unparsable JSON body as a string.
    transitional: { silentJSONParsing: false },
    ...(call.method === 'POST' ? { data: 'x' } : {}),
    signal: call.signal ?? harnessSignal(),
    ...(call.timeoutMs === undefined ? {} : { timeout: call.timeoutMs }),
    ...(call.ca === undefined ? {} : { httpsAgent: new HttpsAgent({ ca: call.ca }) }),
  };
  if (call.connectTimeoutMs !== undefined) throw new Error('axios has no connect timeout option');
  return (await axios.request(config)).data;
};

const gotClient: Client = (url, call) => {
  const options: GotOptions = {
    method: call.method,
    retry: { limit: 0 },
    ...(call.method === 'POST' ? { body: 'x' } : {}),
    signal: call.signal ?? harnessSignal(),
    timeout: {
      ...(call.timeoutMs === undefined ? {} : { request: call.timeoutMs }),
      ...(call.connectTimeoutMs === undefined ? {} : { connect: call.connectTimeoutMs, request: 2000 }),
    },
    ...(call.ca === undefined ? {} : { https: { certificateAuthority: call.ca } }),
  };
  const pending = got(url, options);
  return call.json === true ? pending.json() : pending.text();
};

const kyClient: Client = async (url, call) => {
  if (call.connectTimeoutMs !== undefined) throw new Error('ky has no connect timeout option');
  if (call.ca !== undefined) throw new Error('ky takes no CA');
  const options: KyOptions = {
    method: call.method,
    retry: 0,
    timeout: call.timeoutMs ?? false,
    ...(call.method === 'POST' ? { body: 'x' } : {}),
    signal: call.signal ?? harnessSignal(),
  };
  const pending = ky(url, options);
  return call.json === true ? pending.json() : pending.text();
};

const CLIENTS: Readonly<Record<ClientName, Client>> = {
  fetch: fetchClient,
  'undici.request': undiciClient(),
  'node:http': nodeHttpClient,
  axios: axiosClient,
  got: gotClient,
  ky: kyClient,
};
const ALL = Object.keys(CLIENTS) as ClientName[];

/** A caller's abort, some time after the request was sent. */
function abortSoon(ms = 50): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), ms);
  return controller.signal;
}

// ---------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------

interface Servers {
  refused: string;
  fin: FaultServer;
  reset: FaultServer;
  garbage: FaultServer;
  truncated: FaultServer;
  hang: FaultServer;
  bodyStall: FaultServer;
  status: FaultServer;
}

let servers: Servers;

beforeAll(async () => {
  const [port, fin, reset, garbage, truncated, hang, bodyStall, status] = await Promise.all([
    refusedPort(),
    finServer(),
    resetServer(),
    garbageServer(),
    truncatedServer(),
    hangServer(),
    bodyStallServer(),
    statusServer(),
  ]);
  servers = { refused: `http://127.0.0.1:${port}`, fin, reset, garbage, truncated, hang, bodyStall, status };
});

afterAll(async () => {
  await Promise.all(closables.map((c) => c.close()));
  if (servers === undefined) return;
  await Promise.all([servers.fin, servers.reset, servers.garbage, servers.truncated, servers.hang, servers.bodyStall, servers.status].map((s) => s.close()));
});

// ---------------------------------------------------------------------------
// Table: scenario × client
// ---------------------------------------------------------------------------

interface Row {
  readonly name: string;
  readonly method: Method;
  readonly run: () => Promise<unknown>;
  readonly expected: Expected;
  /** Runs again when it fails: only where a client's own bug can lose the failure being produced. */
  readonly retry?: number;
}

function rows(scenario: string, clients: readonly ClientName[], make: (client: Client, method: Method) => Promise<unknown>, expected: Expected, methods: readonly Method[] = ['GET']): Row[] {
  return clients.flatMap((name) =>
    methods.map((method) => ({
      name: `${name} · ${scenario}${method === 'POST' ? ' (POST)' : ''}`,
      method,
      run: () => make(CLIENTS[name], method),
      expected,
    })),
  );
}

function runRows(table: readonly Row[]): void {
  for (const row of table) {
    it(row.name, { timeout: TEST_TIMEOUT, retry: row.retry ?? 0 }, async () => {
      const error = await rejection(row.run());
      expectClassified(error, row.expected, row.method === 'GET' ? [GET] : [POST, POST_WITH_KEY]);
    });
  }
}

describe('connection failures', () => {
  runRows([
    ...rows('connection refused', ALL, (c, method) => c(`${servers.refused}/p`, { method }), REFUSED, ['GET', 'POST']),
    ...rows('DNS failure', ALL, (c, method) => c('http://upstream.invalid/p', { method }), DNS, ['GET', 'POST']),
    ...rows('FIN before response', ALL, (c, method) => c(`${servers.fin.url}/p`, { method }), LOST, ['GET', 'POST']),
    ...rows('RST before response', ALL, (c, method) => c(`${servers.reset.url}/p`, { method }), LOST, ['GET', 'POST']),
    ...rows('garbage instead of HTTP', ALL, (c, method) => c(`${servers.garbage.url}/p`, { method }), PROTOCOL),
    ...rows('truncated body', ALL, (c, method) => c(`${servers.truncated.url}/p`, { method }), TRUNCATED, ['GET', 'POST']),
  ]);
});

describe('timeouts', () => {
  runRows([
    // The client's own timeout option, against a server that never answers.
    ...rows('no response, own timeout option', ['undici.request', 'axios', 'got', 'ky'], (c, method) => c(`${servers.hang.url}/p`, { method, timeoutMs: T }), RESPONSE_TIMEOUT, ['GET', 'POST']),
    // The same deadline through AbortSignal.timeout.
    ...rows('no response, AbortSignal.timeout', ALL, (c, method) => c(`${servers.hang.url}/p`, { method, signal: AbortSignal.timeout(T) }), RESPONSE_TIMEOUT, ['GET', 'POST']),
    // Headers arrive, the body stalls. ky's `timeout` does not cover the body, so ky only gets the signal.
    ...rows('body stalls, own timeout option', ['undici.request', 'got'], (c, method) => c(`${servers.bodyStall.url}/p`, { method, timeoutMs: T }), BODY_TIMEOUT),
    ...rows('body stalls, AbortSignal.timeout', ALL, (c, method) => c(`${servers.bodyStall.url}/p`, { method, signal: AbortSignal.timeout(T) }), BODY_TIMEOUT),
  ]);

  it(
    'node:http · no response, own timeout option + req.destroy() is indistinguishable from a FIN',
    async () => {
      // `timeout` only emits 'timeout'; destroying the request then yields
      // ECONNRESET "socket hang up", the same error a server's FIN gives, so
      // nothing in it says "timeout". Use a signal (or withUpstream) to get a 504.
      const error = await rejection(nodeHttpClient(`${servers.hang.url}/p`, { method: 'GET', timeoutMs: T }));
      expect(error).toMatchObject({ code: 'ECONNRESET', message: 'socket hang up' });
      expectClassified(error, LOST, [GET]);
    },
    TEST_TIMEOUT,
  );

  it(
    'axios · body stalls, own timeout option is indistinguishable from a truncated body',
    async () => {
      // When axios's `timeout` fires after the headers, it destroys the response
      // stream and rejects with the very error a server's early FIN gives.
      const stalled = await rejection(axiosClient(`${servers.bodyStall.url}/p`, { method: 'GET', timeoutMs: T }));
      const truncated = await rejection(axiosClient(`${servers.truncated.url}/p`, { method: 'GET' }));
      expect(stalled).toMatchObject({ code: 'ERR_BAD_RESPONSE', message: 'stream has been aborted', response: { status: 200 } });
      expect(truncated).toMatchObject({ code: 'ERR_BAD_RESPONSE', message: 'stream has been aborted', response: { status: 200 } });
      expectClassified(stalled, TRUNCATED, [GET]);
    },
    TEST_TIMEOUT,
  );
});

/**
 * Starts a server for a describe block. A server that cannot start fails every
 * test that uses it (a failing beforeAll would only mark them skipped).
 */
function lazyServer<S extends FaultServer>(start: () => Promise<S>): () => Promise<S> {
  let started: Promise<S> | undefined;
  beforeAll(() => {
    started = start();
    started.catch(() => {});
  });
  afterAll(async () => {
    await started?.then(
      (server) => server.close(),
      () => {},
    );
  });
  return () => started ?? Promise.reject(new Error('server not started'));
}

describe('connect timeouts (blackhole)', () => {
  const hole = lazyServer<Blackhole>(blackhole);

  it('the blackhole really holds connects in the handshake', async () => {
    const { url, fillers } = await hole();
    expect(fillers).toBeGreaterThanOrEqual(1);
    const error = await rejection(undiciClient()(`${url}/p`, { method: 'GET', connectTimeoutMs: 300 }));
    expect(error).toMatchObject({ code: 'UND_ERR_CONNECT_TIMEOUT' });
  }, TEST_TIMEOUT);

  runRows([
    // Connect-phase timeouts: they prove that nothing was sent.
    ...rows('connect timeout, own connect timeout option', ['fetch', 'undici.request', 'got'], async (c, method) => c(`${(await hole()).url}/p`, { method, connectTimeoutMs: T }), CONNECT_TIMEOUT, ['GET', 'POST']),
    // A single timeout that covers every phase proves nothing.
    ...rows('connect timeout, own timeout option', ['axios', 'ky'], async (c, method) => c(`${(await hole()).url}/p`, { method, timeoutMs: T }), PHASELESS_TIMEOUT, ['GET', 'POST']),
    // undici.request ignores a signal while its connect is pending (nodejs/undici#386): it is left out here.
    ...rows('connect timeout, AbortSignal.timeout', ['fetch', 'node:http', 'axios', 'got', 'ky'], async (c, method) => {
      const { url } = await hole();
      return c(`${url}/p`, { method, signal: AbortSignal.timeout(T) });
    }, PHASELESS_TIMEOUT),
  ]);
});

describe('TLS', () => {
  const tls = lazyServer<TlsFaultServer>(() => tlsServer({ selfSigned: true }));

  runRows([
    ...rows('self-signed certificate', ALL, async (c, method) => c(`${(await tls()).url}/p`, { method }), CERTIFICATE, ['GET', 'POST']),
    ...rows('trusted certificate for another host name', ['fetch', 'undici.request', 'node:http', 'axios', 'got'], async (c, method) => {
      const { url, cert } = await tls();
      return c(`${url}/p`, { method, ca: cert });
    }, CERTIFICATE),
  ]);
});

describe('caller aborts', () => {
  // ky hands the signal on through copies of a Request, whose abort undici follows weakly: a garbage
  // collection between the request and the abort (a busy parallel run) loses it, and ky waits for ever
  // (nodejs/undici#4068). Such a row runs again; withUpstream's own deadline does not depend on it.
  const kyMayLoseIt = (row: Row): Row => (row.name.startsWith('ky ') ? { ...row, retry: 2 } : row);
  runRows(
    [
      ...rows('caller abort while waiting for the response', ALL, (c, method) => c(`${servers.hang.url}/p`, { method, signal: abortSoon() }), ABORTED, ['GET', 'POST']),
      ...rows('caller abort while reading the body', ALL, (c, method) => c(`${servers.bodyStall.url}/p`, { method, signal: abortSoon() }), ABORTED),
    ].map(kyMayLoseIt),
  );
});

describe('upstream answers with an error status', () => {
  /** undici.request throws on a status only with the responseError interceptor. */
  const throwing = new Agent().compose(interceptors.responseError());
  closables.push({ close: () => throwing.destroy().catch(() => {}) });
  const statusClients: Record<string, Client> = {
    axios: axiosClient,
    got: gotClient,
    ky: kyClient,
    'undici.request + interceptors.responseError()': undiciClient(throwing),
  };

  for (const status of [500, 502, 503, 504, 429, 404, 401]) {
    for (const [name, client] of Object.entries(statusClients)) {
      it(
        `${name} · upstream ${status}`,
        async () => {
          const error = await rejection(client(`${servers.status.url}/status/${status}`, { method: 'GET' }));
          expectClassified(error, upstreamStatus(status), [GET]);
        },
        TEST_TIMEOUT,
      );
    }
  }

  for (const status of [500, 502, 503, 504, 429]) {
    it(
      `fetchUpstream · upstream ${status}`,
      async () => {
        const error = await rejection(fetchUpstream('orders', `${servers.status.url}/status/${status}`));
        expectClassified(error, { ...upstreamStatus(status), upstream: 'orders' }, [GET]);
      },
      TEST_TIMEOUT,
    );
  }

  for (const name of ['axios', 'got'] as const) {
    it(
      `${name} · invalid JSON in a 200`,
      async () => {
        const error = await rejection(CLIENTS[name](`${servers.status.url}/json-bad`, { method: 'GET', json: true }));
        expectClassified(error, PROTOCOL, [GET]);
      },
      TEST_TIMEOUT,
    );
  }
});

describe('fetchUpstream and withUpstream', () => {
  const fetchUpstreamClient: Client = async (url, call) => {
    const response = await fetchUpstream('orders', url, {
      method: call.method,
      ...(call.method === 'POST' ? { body: 'x' } : {}),
      signal: call.signal ?? harnessSignal(),
      ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
    });
    return response.text();
  };
  const tagged = (expected: Expected): Expected => ({ ...expected, upstream: 'orders' });

  // Functions, so that URLs and signals are made when the test runs.
  const cases: [string, () => string, () => Omit<Call, 'method'>, Expected][] = [
    ['connection refused', () => servers.refused, () => ({}), tagged(REFUSED)],
    ['DNS failure', () => 'http://upstream.invalid', () => ({}), tagged(DNS)],
    ['FIN before response', () => servers.fin.url, () => ({}), tagged(LOST)],
    ['RST before response', () => servers.reset.url, () => ({}), tagged(LOST)],
    ['garbage instead of HTTP', () => servers.garbage.url, () => ({}), tagged(PROTOCOL)],
    ['no response, timeoutMs', () => servers.hang.url, () => ({ timeoutMs: T }), tagged(RESPONSE_TIMEOUT)],
    ['no response, AbortSignal.timeout', () => servers.hang.url, () => ({ signal: AbortSignal.timeout(T) }), RESPONSE_TIMEOUT],
    ['caller abort', () => servers.hang.url, () => ({ signal: abortSoon() }), ABORTED],
  ];
  for (const [scenario, base, options, expected] of cases) {
    for (const method of ['GET', 'POST'] as const) {
      it(
        `fetchUpstream · ${scenario}${method === 'POST' ? ' (POST)' : ''}`,
        async () => {
          const error = await rejection(fetchUpstreamClient(`${base()}/p`, { method, ...options() }));
          expectClassified(error, expected, method === 'GET' ? [GET] : [POST, POST_WITH_KEY]);
        },
        TEST_TIMEOUT,
      );
    }
  }

  it('withUpstream(axios) · no response, timeoutMs → 504 although axios reports a cancellation', async () => {
    const error = await rejection(
      withUpstream('orders', (signal) => axiosClient(`${servers.hang.url}/p`, { method: 'GET', signal }), { timeoutMs: T }),
    );
    expectClassified(error, tagged(RESPONSE_TIMEOUT), [GET]);
  }, TEST_TIMEOUT);

  it('withUpstream(got) · connect timeout keeps reachedUpstream false', async () => {
    const hole = await blackhole();
    try {
      const error = await rejection(
        withUpstream('orders', (signal) => gotClient(`${hole.url}/p`, { method: 'POST', signal, connectTimeoutMs: T })),
      );
      expectClassified(error, tagged(CONNECT_TIMEOUT), [POST, POST_WITH_KEY]);
    } finally {
      await hole.close();
    }
  }, TEST_TIMEOUT);

  it("withUpstream(undici.request) · the caller's abort stays a 499", async () => {
    const error = await rejection(
      withUpstream('orders', (signal) => undiciClient()(`${servers.hang.url}/p`, { method: 'GET', signal }), {
        signal: abortSoon(),
        timeoutMs: 2000,
      }),
    );
    expectClassified(error, ABORTED, [GET]);
  }, TEST_TIMEOUT);

  it('withUpstream(ky) · upstream 503 keeps Retry-After 7', async () => {
    const error = await rejection(withUpstream('orders', () => kyClient(`${servers.status.url}/status/503`, { method: 'GET' })));
    expectClassified(error, { ...upstreamStatus(503), upstream: 'orders' }, [GET]);
  }, TEST_TIMEOUT);
});

// ---------------------------------------------------------------------------
// Resilience libraries
// ---------------------------------------------------------------------------

describe('opossum', () => {
  it(
    'opossum · open breaker → EOPENBREAKER → 503, never reached the upstream',
    async () => {
      const breaker = new CircuitBreaker((url: string) => fetchClient(url, { method: 'POST' }), {
        timeout: false,
        errorThresholdPercentage: 1,
        volumeThreshold: 1,
        resetTimeout: 30_000,
      });
      try {
        const url = `${servers.refused}/p`;
        // The first failure passes through unchanged and opens the breaker.
        expectClassified(await rejection(breaker.fire(url)), REFUSED, [POST]);
        expect(breaker.opened).toBe(true);
        const error = await rejection(breaker.fire(url));
        expect(error).toMatchObject({ code: 'EOPENBREAKER' });
        expectClassified(error, BREAKER_OPEN, [POST, POST_WITH_KEY]);
      } finally {
        breaker.shutdown();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    "withUpstream · an open opossum breaker's 503 carries Retry-After = resetTimeout",
    async () => {
      const breaker = new CircuitBreaker((url: string) => fetchClient(url, { method: 'GET' }), {
        timeout: false,
        errorThresholdPercentage: 1,
        volumeThreshold: 1,
        resetTimeout: 30_000,
      });
      try {
        const url = `${servers.refused}/p`;
        // @types/opossum does not declare the `options` property that withUpstream reads at runtime.
        const options = { breaker: breaker as unknown as BreakerLike };
        await rejection(withUpstream('inventory', () => breaker.fire(url), options));
        const error = await rejection(withUpstream('inventory', () => breaker.fire(url), options));
        expectClassified(error, { ...BREAKER_OPEN, retryAfter: 30, upstream: 'inventory' }, [GET]);
      } finally {
        breaker.shutdown();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'opossum · its own timeout → ETIMEDOUT → 504',
    async () => {
      const abortController = new AbortController();
      const breaker = new CircuitBreaker((url: string) => fetchClient(url, { method: 'GET', signal: abortController.signal }), {
        timeout: T,
        abortController,
      });
      try {
        const error = await rejection(breaker.fire(`${servers.hang.url}/p`));
        expect(error).toMatchObject({ code: 'ETIMEDOUT' });
        expectClassified(error, RESPONSE_TIMEOUT, [GET]);
      } finally {
        breaker.shutdown();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'opossum · semaphore full → ESEMLOCKED → 503',
    async () => {
      const controller = new AbortController();
      const breaker = new CircuitBreaker((url: string) => fetchClient(url, { method: 'POST', signal: controller.signal }), {
        timeout: false,
        capacity: 1,
      });
      try {
        const first = breaker.fire(`${servers.hang.url}/p`);
        first.catch(() => {});
        const error = await rejection(breaker.fire(`${servers.hang.url}/p`));
        expect(error).toMatchObject({ code: 'ESEMLOCKED' });
        expectClassified(error, LIMIT_REACHED, [POST, POST_WITH_KEY]);
        controller.abort();
        await rejection(first);
      } finally {
        breaker.shutdown();
      }
    },
    TEST_TIMEOUT,
  );
});

describe('cockatiel', () => {
  it(
    'cockatiel · open circuit → BrokenCircuitError → 503',
    async () => {
      const policy = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(1) });
      const url = `${servers.refused}/p`;
      expectClassified(await rejection(policy.execute(() => fetchClient(url, { method: 'POST' }))), REFUSED, [POST]);
      const error = await rejection(policy.execute(() => fetchClient(url, { method: 'POST' })));
      expect(error).toMatchObject({ isBrokenCircuitError: true });
      expectClassified(error, BREAKER_OPEN, [POST, POST_WITH_KEY]);
    },
    TEST_TIMEOUT,
  );

  it(
    'cockatiel · isolate() → IsolatedCircuitError → 503',
    async () => {
      const policy = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
      const handle = policy.isolate();
      try {
        const error = await rejection(policy.execute(() => fetchClient(`${servers.status.url}/`, { method: 'GET' })));
        expect(error).toMatchObject({ isIsolatedCircuitError: true });
        expectClassified(error, BREAKER_OPEN, [GET]);
      } finally {
        handle.dispose();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'withUpstream · an open cockatiel circuit carries Retry-After = halfOpenAfter',
    async () => {
      const policy = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(1) });
      const url = `${servers.refused}/p`;
      const call = (): Promise<unknown> =>
        withUpstream('search', () => policy.execute(() => fetchClient(url, { method: 'GET' })), { breaker: { halfOpenAfter: 10_000 } });
      await rejection(call());
      const error = await rejection(call());
      expectClassified(error, { ...BREAKER_OPEN, retryAfter: 10, upstream: 'search' }, [GET]);
    },
    TEST_TIMEOUT,
  );

  it(
    'cockatiel · bulkhead full → BulkheadRejectedError → 503',
    async () => {
      const policy = bulkhead(1, 0);
      const controller = new AbortController();
      const first = policy.execute(() => fetchClient(`${servers.hang.url}/p`, { method: 'POST', signal: controller.signal }));
      first.catch(() => {});
      const error = await rejection(policy.execute(() => fetchClient(`${servers.hang.url}/p`, { method: 'POST' })));
      expect(error).toMatchObject({ isBulkheadRejectedError: true });
      expectClassified(error, LIMIT_REACHED, [POST, POST_WITH_KEY]);
      controller.abort();
      await rejection(first);
    },
    TEST_TIMEOUT,
  );

  it(
    'cockatiel · aggressive timeout → TaskCancelledError → 504',
    async () => {
      const policy = timeout(T, TimeoutStrategy.Aggressive);
      const error = await rejection(policy.execute(({ signal }) => fetchClient(`${servers.hang.url}/p`, { method: 'GET', signal })));
      expect(error).toMatchObject({ isTaskCancelledError: true });
      expectClassified(error, RESPONSE_TIMEOUT, [GET]);
    },
    TEST_TIMEOUT,
  );
});
