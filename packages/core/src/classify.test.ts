import { Boom, badRequest, serverUnavailable } from '@hapi/boom';
import createFastifyError from '@fastify/error';
import { BadGatewayException, BadRequestException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { HTTPException } from 'hono/http-exception';
import createHttpError from 'http-errors';
import { describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import type { Classification } from './classify.js';
import { BadGatewayError, GatewayTimeoutError, ServiceUnavailableError, UpstreamError } from './errors.js';

const GET = { method: 'GET' };
const POST = { method: 'POST' };

function errno(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${code} something`), { code, ...extra });
}

function pick(result: Classification): Partial<Classification> {
  return { status: result.status, code: result.code, reachedUpstream: result.reachedUpstream, proxyError: result.proxyError };
}

describe('classify: totality', () => {
  const hostile: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['a string', 'ECONNREFUSED'],
    ['a number', 42],
    ['a symbol', Symbol('boom')],
    ['a bigint', 10n],
    ['a function', () => {}],
    ['a frozen object', Object.freeze({ code: 'ECONNRESET' })],
    ['a null-prototype object', Object.assign(Object.create(null) as object, { code: 'ETIMEDOUT' })],
    ['a Proxy whose traps throw', new Proxy({}, { get: () => { throw new Error('trap'); }, has: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); } })],
    ['an object whose getters throw', Object.defineProperties({}, { code: { get: () => { throw new Error('getter'); } }, cause: { get: () => { throw new Error('getter'); } } })],
    ['a revoked Proxy', (() => { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; })()],
    ['status "abc"', { status: 'abc' }],
    ['statusCode 999', { statusCode: 999 }],
    ['status 200', Object.assign(new Error('ok?'), { status: 200 })],
  ];

  it.each(hostile)('%s gives a valid classification', (_name, value) => {
    const result = classify(value, GET);
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(result.status).toBeLessThanOrEqual(599);
    expect(typeof result.code).toBe('string');
    expect(typeof result.retryable).toBe('boolean');
  });

  it('reads the cause chain of frozen and null-prototype objects', () => {
    expect(classify(Object.freeze({ code: 'ECONNRESET' })).code).toBe('UPSTREAM_CONNECTION_LOST');
    expect(classify(Object.assign(Object.create(null) as object, { code: 'ECONNREFUSED' })).code).toBe('UPSTREAM_UNREACHABLE');
  });

  it('survives a circular cause and a 10,000-deep chain', () => {
    const a: { cause?: unknown; message: string } = { message: 'a' };
    const b = { message: 'b', cause: a };
    a.cause = b;
    expect(classify(a).status).toBe(500);

    let deep: unknown = errno('ECONNREFUSED');
    for (let i = 0; i < 10_000; i++) deep = new Error(`wrap ${i}`, { cause: deep });
    const started = performance.now();
    expect(classify(deep).status).toBe(500); // the evidence is below the bounded walk
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("trusts the library's brand only with a 502, 503 or 504 status", () => {
    const branded = (fields: object): object => Object.defineProperty(fields, Symbol.for('gateway-errors.upstream-error'), { value: true });
    expect(classify(branded({})).status).toBe(500);
    expect(classify(branded({ status: 200, code: 'ECONNREFUSED' }))).toMatchObject({ status: 502, code: 'UPSTREAM_UNREACHABLE' });
    expect(classify(branded({ status: 503 }))).toMatchObject({ status: 503, code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('ignores an upstream status outside 100–599', () => {
    expect(classify(new BadGatewayError({ upstreamStatus: 0 })).upstreamStatus).toBeUndefined();
    expect(classify(new BadGatewayError({ upstreamStatus: Number.NaN })).upstreamStatus).toBeUndefined();
    expect(classify(errno('UND_ERR_RESPONSE_STATUS_CODE', { statusCode: 0 })).upstreamStatus).toBeUndefined();
  });

  it('a thrown string or bare SyntaxError is not upstream evidence', () => {
    expect(classify('ECONNREFUSED').code).toBe('INTERNAL_ERROR');
    expect(classify(new SyntaxError('Unexpected token } in JSON')).code).toBe('INTERNAL_ERROR');
  });

  it('anything else is INTERNAL_ERROR, never retryable', () => {
    expect(classify(new TypeError("Cannot read properties of undefined (reading 'x')"), GET)).toMatchObject({
      status: 500,
      code: 'INTERNAL_ERROR',
      retryable: false,
      proxyError: 'proxy_internal_error',
    });
  });
});

describe('classify: the table', () => {
  const rows: Array<[string, unknown, Partial<Classification>]> = [
    ['ECONNREFUSED', errno('ECONNREFUSED', { syscall: 'connect' }), { status: 502, code: 'UPSTREAM_UNREACHABLE', reachedUpstream: false, proxyError: 'connection_refused' }],
    ['ENOTFOUND', errno('ENOTFOUND', { syscall: 'getaddrinfo' }), { status: 502, code: 'UPSTREAM_UNREACHABLE', reachedUpstream: false, proxyError: 'dns_error' }],
    ['EAI_AGAIN', errno('EAI_AGAIN'), { status: 502, code: 'UPSTREAM_UNREACHABLE', reachedUpstream: false, proxyError: 'dns_timeout' }],
    ['EHOSTUNREACH', errno('EHOSTUNREACH'), { status: 502, code: 'UPSTREAM_UNREACHABLE', reachedUpstream: false, proxyError: 'destination_ip_unroutable' }],
    ['ENETUNREACH', errno('ENETUNREACH'), { status: 502, code: 'UPSTREAM_UNREACHABLE', reachedUpstream: false }],
    ['ECONNRESET', errno('ECONNRESET'), { status: 502, code: 'UPSTREAM_CONNECTION_LOST', reachedUpstream: true, proxyError: 'connection_terminated' }],
    ['EPIPE', errno('EPIPE'), { status: 502, code: 'UPSTREAM_CONNECTION_LOST' }],
    ['UND_ERR_SOCKET', errno('UND_ERR_SOCKET'), { status: 502, code: 'UPSTREAM_CONNECTION_LOST' }],
    ['a body cut short', errno('UND_ERR_RES_CONTENT_LENGTH_MISMATCH'), { status: 502, code: 'UPSTREAM_CONNECTION_LOST', proxyError: 'http_response_incomplete' }],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', errno('DEPTH_ZERO_SELF_SIGNED_CERT'), { status: 502, code: 'UPSTREAM_TLS_FAILURE', reachedUpstream: false, proxyError: 'tls_certificate_error' }],
    ['CERT_HAS_EXPIRED', errno('CERT_HAS_EXPIRED'), { status: 502, code: 'UPSTREAM_TLS_FAILURE', proxyError: 'tls_certificate_error' }],
    ['ERR_TLS_CERT_ALTNAME_INVALID', errno('ERR_TLS_CERT_ALTNAME_INVALID'), { status: 502, code: 'UPSTREAM_TLS_FAILURE', proxyError: 'tls_certificate_error' }],
    ['EPROTO', errno('EPROTO'), { status: 502, code: 'UPSTREAM_TLS_FAILURE', proxyError: 'tls_protocol_error' }],
    ['HPE_INVALID_CONSTANT', errno('HPE_INVALID_CONSTANT'), { status: 502, code: 'UPSTREAM_BAD_RESPONSE', proxyError: 'http_protocol_error' }],
    ['ETIMEDOUT on connect', errno('ETIMEDOUT', { syscall: 'connect' }), { status: 504, code: 'UPSTREAM_TIMEOUT', reachedUpstream: false, proxyError: 'connection_timeout' }],
    ['ETIMEDOUT of opossum', errno('ETIMEDOUT', { message: 'Timed out after 100ms' }), { status: 504, code: 'UPSTREAM_TIMEOUT', reachedUpstream: true, proxyError: 'http_response_timeout' }],
    ['ESOCKETTIMEDOUT', errno('ESOCKETTIMEDOUT'), { status: 504, code: 'UPSTREAM_TIMEOUT', proxyError: 'connection_read_timeout' }],
    ['axios ECONNABORTED', errno('ECONNABORTED'), { status: 504, code: 'UPSTREAM_TIMEOUT', reachedUpstream: true }],
    ['UND_ERR_CONNECT_TIMEOUT', errno('UND_ERR_CONNECT_TIMEOUT'), { status: 504, code: 'UPSTREAM_TIMEOUT', reachedUpstream: false, proxyError: 'connection_timeout' }],
    ['UND_ERR_HEADERS_TIMEOUT', errno('UND_ERR_HEADERS_TIMEOUT'), { status: 504, code: 'UPSTREAM_TIMEOUT', reachedUpstream: true, proxyError: 'http_response_timeout' }],
    ['UND_ERR_BODY_TIMEOUT', errno('UND_ERR_BODY_TIMEOUT'), { status: 504, code: 'UPSTREAM_TIMEOUT', proxyError: 'connection_read_timeout' }],
    ['AbortSignal.timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), { status: 504, code: 'UPSTREAM_TIMEOUT', reachedUpstream: true }],
    ["got's connect-phase TimeoutError", errno('ETIMEDOUT', { name: 'TimeoutError', event: 'connect' }), { status: 504, code: 'UPSTREAM_TIMEOUT', reachedUpstream: false }],
    ["got's lookup-phase TimeoutError", errno('ETIMEDOUT', { name: 'TimeoutError', event: 'lookup' }), { status: 504, reachedUpstream: false, proxyError: 'dns_timeout' }],
    ["got's response-phase TimeoutError", errno('ETIMEDOUT', { name: 'TimeoutError', event: 'request' }), { status: 504, reachedUpstream: true }],
    ['opossum open breaker', errno('EOPENBREAKER'), { status: 503, code: 'UPSTREAM_UNAVAILABLE', reachedUpstream: false, proxyError: 'destination_unavailable' }],
    ['opossum semaphore', errno('ESEMLOCKED'), { status: 503, code: 'UPSTREAM_UNAVAILABLE', proxyError: 'connection_limit_reached' }],
    ['cockatiel BrokenCircuitError', Object.assign(new Error('Execution prevented because the circuit breaker is open'), { isBrokenCircuitError: true }), { status: 503, code: 'UPSTREAM_UNAVAILABLE', reachedUpstream: false }],
    ['cockatiel IsolatedCircuitError', Object.assign(new Error('isolated'), { isBrokenCircuitError: true, isIsolatedCircuitError: true }), { status: 503 }],
    ['cockatiel bulkhead', Object.assign(new Error('Bulkhead capacity exceeded'), { isBulkheadRejectedError: true }), { status: 503, proxyError: 'connection_limit_reached' }],
    ['a caller abort', new DOMException('This operation was aborted', 'AbortError'), { status: 499, code: 'CLIENT_CLOSED_REQUEST' }],
    ['axios CanceledError', Object.assign(new Error('canceled'), { name: 'CanceledError', code: 'ERR_CANCELED' }), { status: 499, code: 'CLIENT_CLOSED_REQUEST' }],
    ['pg 57014', errno('57014', { severity: 'ERROR' }), { status: 504, code: 'UPSTREAM_TIMEOUT' }],
    ['pg 53300', errno('53300', { severity: 'FATAL' }), { status: 503, code: 'UPSTREAM_UNAVAILABLE', proxyError: 'connection_limit_reached' }],
    ['pg 53100', errno('53100', { severity: 'ERROR' }), { status: 503, code: 'UPSTREAM_UNAVAILABLE' }],
    ['pg 57P01', errno('57P01', { severity: 'FATAL' }), { status: 503, code: 'UPSTREAM_UNAVAILABLE' }],
    ['pg 23505 (an application bug)', errno('23505', { severity: 'ERROR' }), { status: 500, code: 'INTERNAL_ERROR' }],
    ['a five-letter code without severity', errno('57014'), { status: 500 }],
    ['gRPC DEADLINE_EXCEEDED', Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4, details: 'Deadline exceeded', metadata: {} }), { status: 504, code: 'UPSTREAM_TIMEOUT' }],
    ['gRPC UNAVAILABLE before connecting', Object.assign(new Error('14 UNAVAILABLE'), { code: 14, details: 'No connection established. Last error: connect ECONNREFUSED', metadata: {} }), { status: 503, reachedUpstream: false }],
    ['gRPC UNAVAILABLE', Object.assign(new Error('14 UNAVAILABLE'), { code: 14, details: 'Connection dropped', metadata: {} }), { status: 503, reachedUpstream: true }],
    ['gRPC RESOURCE_EXHAUSTED', Object.assign(new Error('8'), { code: 8, details: 'quota', metadata: {} }), { status: 503, proxyError: 'connection_limit_reached' }],
    ['gRPC CANCELLED', Object.assign(new Error('1'), { code: 1, details: 'Cancelled on client', metadata: {} }), { status: 499 }],
    ['gRPC INTERNAL', Object.assign(new Error('13'), { code: 13, details: 'boom', metadata: {} }), { status: 502, code: 'UPSTREAM_ERROR_STATUS' }],
  ];

  it.each(rows)('%s', (_name, error, expected) => {
    expect(pick(classify(error, GET))).toMatchObject(expected);
  });
});

describe('classify: causes and aggregates', () => {
  it('finds the signal in a fetch-style cause', () => {
    const error = new TypeError('fetch failed', { cause: errno('ECONNREFUSED') });
    expect(classify(error).code).toBe('UPSTREAM_UNREACHABLE');
  });

  it("fetch's wrapper says nothing itself: its cause decides, and without one it is an internal error", () => {
    expect(classify(new TypeError('fetch failed', { cause: errno('ETIMEDOUT') })).code).toBe('UPSTREAM_TIMEOUT');
    expect(classify(new TypeError('fetch failed')).code).toBe('INTERNAL_ERROR');
    // Another TypeError keeps every rung: an SDK's TypeError with the status it got is still that status.
    const sdk = Object.assign(new TypeError('request failed'), { status: 503, response: { status: 503, headers: {} } });
    expect(classify(sdk).code).toBe(classify(Object.assign(new Error('request failed'), { status: 503, response: { status: 503, headers: {} } })).code);
  });

  it('finds the signal inside an AggregateError (Happy Eyeballs)', () => {
    const aggregate = new AggregateError([errno('ECONNREFUSED'), errno('ECONNREFUSED')], '');
    expect(classify(new TypeError('fetch failed', { cause: aggregate })).code).toBe('UPSTREAM_UNREACHABLE');
  });

  it('an AbortError wrapping a TimeoutError is a timeout (node:http)', () => {
    const abort = Object.assign(new Error('The operation was aborted'), {
      name: 'AbortError',
      code: 'ABORT_ERR',
      cause: new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    });
    expect(classify(abort).code).toBe('UPSTREAM_TIMEOUT');
  });

  it('an application error wrapping an upstream failure keeps the upstream meaning', () => {
    expect(classify(new Error('could not load prices', { cause: errno('ECONNRESET') })).code).toBe('UPSTREAM_CONNECTION_LOST');
  });
});

describe('classify: application errors', () => {
  it('UpstreamError subclasses give their status and name the upstream', () => {
    expect(classify(new BadGatewayError({ upstream: 'orders' }))).toMatchObject({ status: 502, code: 'UPSTREAM_BAD_RESPONSE', upstream: 'orders' });
    expect(classify(new ServiceUnavailableError({ upstream: 'search', retryAfter: 30 }))).toMatchObject({ status: 503, code: 'UPSTREAM_UNAVAILABLE', retryAfter: 30, retryable: true });
    expect(classify(new GatewayTimeoutError({ upstream: 'pricing' }), POST)).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT', retryable: false });
    expect(classify(new UpstreamError({ status: 502, code: 'UPSTREAM_TLS_FAILURE' }))).toMatchObject({ status: 502, code: 'UPSTREAM_TLS_FAILURE' });
  });

  it('the constructors take whatever JavaScript callers pass, and their message stays a safe string', () => {
    const hostile = { toString: {}, valueOf: {} } as unknown as string;
    const error = new BadGatewayError({ detail: hostile, upstream: hostile, upstreamStatus: hostile as unknown as number });
    expect(error.message).toBe('upstream failed');
    expect(new GatewayTimeoutError({ upstream: 'pricing' }).message).toBe('upstream "pricing" timed out');
    expect(new BadGatewayError({ upstream: 'orders', upstreamStatus: 500 }).message).toBe('upstream "orders" answered 500');
    expect(classify(error)).toMatchObject({ status: 502, code: 'UPSTREAM_BAD_RESPONSE' });
  });

  it('a BadGatewayError without a code takes it from its cause', () => {
    const error = new BadGatewayError({ upstream: 'inventory', cause: errno('ECONNREFUSED') });
    expect(classify(error, POST)).toMatchObject({ status: 502, code: 'UPSTREAM_UNREACHABLE', reachedUpstream: false, retryable: true, upstream: 'inventory' });
  });

  it('a GatewayTimeoutError over a connect timeout knows nothing was sent', () => {
    const error = new GatewayTimeoutError({ upstream: 'pricing', cause: errno('UND_ERR_CONNECT_TIMEOUT') });
    expect(classify(error, POST)).toMatchObject({ status: 504, reachedUpstream: false, retryable: true, proxyError: 'connection_timeout' });
  });

  it('an explicit status wins over a cause of another status', () => {
    expect(classify(new BadGatewayError({ cause: errno('ETIMEDOUT') })).status).toBe(502);
  });

  it('a Date retryAfter becomes seconds from now, capped', () => {
    const soon = new Date(Date.now() + 10_500);
    expect(classify(new ServiceUnavailableError({ retryAfter: soon })).retryAfter).toBe(11);
    expect(classify(new ServiceUnavailableError({ retryAfter: 99_999 })).retryAfter).toBe(120);
    expect(classify(new ServiceUnavailableError({ retryAfter: 99_999 }), undefined, { maxRetryAfter: 30 }).retryAfter).toBe(30);
  });

  it('every 503 has a Retry-After, the default when nothing is known', () => {
    expect(classify(errno('EOPENBREAKER')).retryAfter).toBe(5);
    expect(classify(errno('EOPENBREAKER'), undefined, { defaultRetryAfter: 9 }).retryAfter).toBe(9);
  });
});

describe('classify: client errors stay 4xx', () => {
  const kept: Array<[string, unknown, number]> = [
    ['http-errors 404', createHttpError(404, 'No such order'), 404],
    ['http-errors 422', createHttpError(422), 422],
    ['Boom badRequest', badRequest('Missing name'), 400],
    ['Boom 409', new Boom('Already exists', { statusCode: 409 }), 409],
    ['Nest NotFoundException', new NotFoundException('User not found'), 404],
    ['Hono HTTPException', new HTTPException(401, { message: 'Bad token' }), 401],
    ['Fastify error', new (createFastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 'Request body is too large', 413))(), 413],
    ['body-parser style', Object.assign(new SyntaxError('Unexpected token'), { status: 400, statusCode: 400, expose: true, type: 'entity.parse.failed', body: '{' }), 400],
  ];

  it.each(kept)('%s keeps its status and message', (_name, error, status) => {
    const result = classify(error, POST);
    expect(result.status).toBe(status);
    expect(result.expose).toBe(true);
    expect(result.retryable).toBe(false);
  });

  it('keeps the message of an exposed 4xx as its detail', () => {
    expect(classify(createHttpError(404, 'No such order')).detail).toBe('No such order');
    expect(classify(new NotFoundException('User not found')).detail).toBe('User not found');
    expect(classify(badRequest('Missing name')).detail).toBe('Missing name');
  });

  it('does not expose a 4xx created with expose: false', () => {
    const result = classify(createHttpError(400, 'internal reason', { expose: false, errors: [{ pointer: '#/ssn', detail: 'matches 123-45-6789' }] }));
    expect(result).toMatchObject({ status: 400, expose: false, detail: undefined, errors: undefined });
  });

  it("turns the ValidationPipe's message array into errors", () => {
    // What ValidationPipe throws: a BadRequestException whose response message is an array.
    const result = classify(new BadRequestException(['name must be a string', 'age must be a number']));
    expect(result.status).toBe(400);
    expect(result.errors).toEqual([{ detail: 'name must be a string' }, { detail: 'age must be a number' }]);
  });

  it("turns Fastify's validation array into errors with pointers", () => {
    const error = Object.assign(new Error('body/name must be string'), {
      statusCode: 400,
      code: 'FST_ERR_VALIDATION',
      validationContext: 'body',
      validation: [{ instancePath: '/name', message: 'must be string' }],
    });
    expect(classify(error).errors).toEqual([{ pointer: '#/name', detail: 'name must be string' }]);
  });

  it('keeps the field errors an application attached to its 4xx', () => {
    const error = createHttpError(422, 'Invalid order', {
      errors: [{ pointer: '#/name', detail: 'must be a string' }, { path: ['items', 0, 'sku'], message: 'is required' }, 'junk'],
    });
    expect(classify(error)).toMatchObject({
      status: 422,
      detail: 'Invalid order',
      errors: [{ pointer: '#/name', detail: 'must be a string' }, { pointer: '#/items/0/sku', detail: 'is required' }],
    });
  });

  it('a kept 429 is retryable and carries its Retry-After', () => {
    const error = createHttpError(429, { headers: { 'retry-after': '30' } });
    expect(classify(error, POST)).toMatchObject({ status: 429, retryable: true, retryAfter: 30 });
  });

  it('a kept 429 without a valid Retry-After gets defaultRetryAfter', () => {
    expect(classify(createHttpError(429), POST).retryAfter).toBe(5);
    expect(classify(createHttpError(429, { headers: { 'retry-after': '-1' } }), POST, { defaultRetryAfter: 9 }).retryAfter).toBe(9);
  });

  it("an application's own 5xx maps to the matching code", () => {
    expect(classify(new ServiceUnavailableException())).toMatchObject({ status: 503, code: 'UPSTREAM_UNAVAILABLE' });
    expect(classify(new BadGatewayException())).toMatchObject({ status: 502, code: 'UPSTREAM_BAD_RESPONSE' });
    expect(classify(serverUnavailable())).toMatchObject({ status: 503, code: 'UPSTREAM_UNAVAILABLE' });
    expect(classify(createHttpError(501))).toMatchObject({ status: 501, code: 'NOT_IMPLEMENTED' });
  });
});

describe("classify: an upstream's status never becomes ours", () => {
  function axiosLike(status: number, headers: Record<string, string> = {}): Error {
    return Object.assign(new Error(`Request failed with status code ${status}`), {
      isAxiosError: true,
      code: status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST',
      status,
      response: { status, headers },
    });
  }

  it.each([
    [404, 502, 'UPSTREAM_ERROR_STATUS'],
    [401, 502, 'UPSTREAM_ERROR_STATUS'],
    [500, 502, 'UPSTREAM_ERROR_STATUS'],
    [501, 502, 'UPSTREAM_ERROR_STATUS'],
    [505, 502, 'UPSTREAM_ERROR_STATUS'],
    [503, 503, 'UPSTREAM_UNAVAILABLE'],
    [429, 503, 'UPSTREAM_UNAVAILABLE'],
    [504, 504, 'UPSTREAM_TIMEOUT'],
  ])('upstream %i → %i %s', (upstream, status, code) => {
    expect(classify(axiosLike(upstream))).toMatchObject({ status, code, upstreamStatus: upstream });
  });

  it("carries the upstream's Retry-After over, capped", () => {
    expect(classify(axiosLike(503, { 'retry-after': '7' })).retryAfter).toBe(7);
    expect(classify(axiosLike(429, { 'retry-after': '86400' })).retryAfter).toBe(120);
    expect(classify(axiosLike(503, { 'retry-after': '-3' })).retryAfter).toBe(5);
    expect(classify(axiosLike(503, { 'retry-after': 'soon' })).retryAfter).toBe(5);
    expect(classify(axiosLike(503, { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' })).retryAfter).toBe(5);
  });

  it('an upstream 4xx is not worth retrying; a 5xx is, for idempotent requests', () => {
    expect(classify(axiosLike(404), GET).retryable).toBe(false);
    expect(classify(axiosLike(500), GET).retryable).toBe(true);
    expect(classify(axiosLike(500), POST).retryable).toBe(false);
  });

  it('a mapper can keep an upstream 404 on purpose', () => {
    const result = classify(axiosLike(404), GET, {
      mappers: [(error) => ((error as { response?: { status?: number } }).response?.status === 404 ? { status: 404 } : undefined)],
    });
    expect(result).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('classify: retry guidance', () => {
  it('a refused connection is retryable for any method', () => {
    expect(classify(errno('ECONNREFUSED'), POST).retryable).toBe(true);
  });

  it('a lost connection is retryable only when idempotent', () => {
    expect(classify(errno('ECONNRESET'), GET).retryable).toBe(true);
    expect(classify(errno('ECONNRESET'), { method: 'put' }).retryable).toBe(true);
    expect(classify(errno('ECONNRESET'), POST).retryable).toBe(false);
    expect(classify(errno('ECONNRESET'), { method: 'PATCH' }).retryable).toBe(false);
    expect(classify(errno('ECONNRESET')).retryable).toBe(false);
  });

  it('an Idempotency-Key makes a POST retryable', () => {
    expect(classify(errno('ECONNRESET'), { method: 'POST', headers: { 'idempotency-key': 'k-1' } }).retryable).toBe(true);
    expect(classify(errno('ECONNRESET'), { method: 'POST', headers: new Headers({ 'Idempotency-Key': 'k-1' }) }).retryable).toBe(true);
  });

  it("a gRPC error that is the upstream's answer is not worth retrying", () => {
    const notFound = Object.assign(new Error('5 NOT_FOUND'), { code: 5, details: 'no such order', metadata: {} });
    expect(classify(notFound, GET)).toMatchObject({ status: 502, retryable: false });
    const internal = Object.assign(new Error('13 INTERNAL'), { code: 13, details: 'boom', metadata: {} });
    expect(classify(internal, GET)).toMatchObject({ status: 502, retryable: true });
  });

  it('a TLS failure is never retryable', () => {
    expect(classify(errno('DEPTH_ZERO_SELF_SIGNED_CERT'), GET).retryable).toBe(false);
  });

  it('a timed-out POST may have been processed; a connect timeout was not', () => {
    expect(classify(errno('UND_ERR_HEADERS_TIMEOUT'), POST).retryable).toBe(false);
    expect(classify(errno('UND_ERR_CONNECT_TIMEOUT'), POST).retryable).toBe(true);
  });

  it('503 is always retryable; 500 and 4xx are not', () => {
    expect(classify(errno('EOPENBREAKER'), POST).retryable).toBe(true);
    expect(classify(new Error('bug'), GET).retryable).toBe(false);
    expect(classify(createHttpError(400), GET).retryable).toBe(false);
  });
});

describe('classify: mappers', () => {
  class PaymentDeclined extends Error {}

  it('run before the built-ins, on every error of the chain', () => {
    const mappers = [(error: unknown) => (error instanceof PaymentDeclined ? { status: 402, code: 'PAYMENT_DECLINED' } : undefined)];
    expect(classify(new Error('wrap', { cause: new PaymentDeclined() }), undefined, { mappers })).toMatchObject({
      status: 402,
      code: 'PAYMENT_DECLINED',
      title: 'Payment Required',
      expose: true,
    });
  });

  it('may only refine the built-in result', () => {
    const mappers = [() => ({ upstream: 'ledger' })];
    expect(classify(errno('ECONNREFUSED'), undefined, { mappers })).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', upstream: 'ledger' });
  });

  it('a known code implies its status', () => {
    const mappers = [() => ({ code: 'UPSTREAM_TIMEOUT' })];
    expect(classify(new Error('x'), undefined, { mappers })).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT' });
  });

  it('a throwing mapper or an invalid status is ignored', () => {
    const mappers = [
      () => {
        throw new Error('mapper bug');
      },
      () => ({ status: 200 }),
    ];
    expect(classify(errno('ECONNRESET'), undefined, { mappers })).toMatchObject({ status: 502, code: 'UPSTREAM_CONNECTION_LOST' });
  });

  it("validates and caps a refinement's Retry-After like any other", () => {
    const refine = (retryAfter: unknown) => [() => ({ retryAfter: retryAfter as number })];
    const unavailable = errno('EOPENBREAKER');
    expect(classify(unavailable, undefined, { mappers: refine(-5) }).retryAfter).toBe(5);
    expect(classify(unavailable, undefined, { mappers: refine('Thu, 01 Jan 1970 00:00:00 GMT') }).retryAfter).toBe(5);
    expect(classify(unavailable, undefined, { mappers: refine('7\r\nSet-Cookie: a=b') }).retryAfter).toBe(5);
    expect(classify(unavailable, undefined, { mappers: refine(1e9) }).retryAfter).toBe(120);
    expect(classify(unavailable, undefined, { mappers: refine(30) }).retryAfter).toBe(30);
  });

  it('ignores a refined upstream status outside 100–599', () => {
    const error = new BadGatewayError({ upstreamStatus: 500 });
    expect(classify(error, undefined, { mappers: [() => ({ upstreamStatus: Number.NaN })] }).upstreamStatus).toBe(500);
    expect(classify(error, undefined, { mappers: [() => ({ upstreamStatus: 404 })] }).upstreamStatus).toBe(404);
  });
});
