import createHttpError from 'http-errors';
import { describe, expect, it, vi } from 'vitest';
import { defineConventions } from './conventions.js';
import { BadGatewayError, ServiceUnavailableError } from './errors.js';
import { toLogEntry } from './log.js';
import type { ErrorReport } from './log.js';
import { renderProblem } from './render.js';
import type { Problem } from './render.js';
import { captureStderr } from './test-support/stderr.js';

const production = defineConventions({ mode: 'production', onError: false });
const development = defineConventions({ mode: 'development', onError: false });

function errno(code: string, message = `${code} failure`, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

function json(problem: Problem): Record<string, unknown> {
  return JSON.parse(problem.body ?? 'null') as Record<string, unknown>;
}

describe('renderProblem: body', () => {
  it('is an RFC 9457 problem with the extension members', () => {
    const problem = renderProblem(
      errno('ECONNREFUSED'),
      { method: 'GET', url: '/orders/7?token=abc', headers: { 'x-request-id': 'req-1' } },
      production,
    );
    expect(problem.status).toBe(502);
    expect(json(problem)).toEqual({
      type: 'urn:gateway-errors:upstream-unreachable',
      title: 'Upstream Unreachable',
      status: 502,
      detail: 'An upstream service could not be reached.',
      instance: '/orders/7',
      code: 'UPSTREAM_UNREACHABLE',
      proxyStatus: 'connection_refused',
      requestId: 'req-1',
      retryable: true,
    });
    expect(Object.keys(json(problem))[0]).toBe('type');
  });

  it('says which phase of the hop failed in proxyStatus, the RFC 9209 error type of Proxy-Status, on 5xx only', () => {
    const phases: ReadonlyArray<[unknown, string]> = [
      [errno('ECONNREFUSED'), 'connection_refused'],
      [errno('ENOTFOUND'), 'dns_error'],
      [errno('ECONNRESET'), 'connection_terminated'],
      [errno('UND_ERR_CONNECT_TIMEOUT'), 'connection_timeout'],
      [errno('UND_ERR_HEADERS_TIMEOUT'), 'http_response_timeout'],
      [Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'tls_certificate_error'],
    ];
    for (const [error, type] of phases) {
      const problem = renderProblem(error, { url: '/' }, production);
      expect(json(problem)['proxyStatus'], type).toBe(type);
      expect(problem.headers['proxy-status'], type).toContain(`error=${type}`);
    }
    expect(json(renderProblem(createHttpError(404), { url: '/' }, production))).not.toHaveProperty('proxyStatus');
    const bug = renderProblem(new Error('bug'), { url: '/' }, production);
    expect(json(bug)['proxyStatus']).toBe('proxy_internal_error');
    expect(bug.headers['proxy-status']).toContain('error=proxy_internal_error');
    const off = renderProblem(errno('ECONNREFUSED'), { url: '/' }, defineConventions({ proxyStatus: false, onError: false }));
    expect(off.headers).not.toHaveProperty('proxy-status');
    expect(json(off)).not.toHaveProperty('proxyStatus');
  });

  it('uses the configured type base, and about:blank for status-only problems', () => {
    const conventions = defineConventions({ typeBase: 'https://errors.example.com/', onError: false });
    expect(json(renderProblem(errno('ETIMEDOUT'), { url: '/' }, conventions))['type']).toBe('https://errors.example.com/upstream-timeout');
    expect(json(renderProblem(createHttpError(404), { url: '/' }, conventions))['type']).toBe('about:blank');
  });

  it('keeps the safe message and errors of a 4xx', () => {
    const body = json(renderProblem(createHttpError(404, 'No such order'), { url: '/orders/9' }, production));
    expect(body).toMatchObject({ status: 404, title: 'Not Found', detail: 'No such order', code: 'NOT_FOUND', retryable: false });
  });

  it("shows an application's public detail, never its message", () => {
    const body = json(renderProblem(new ServiceUnavailableError({ detail: 'Search is being re-indexed.', upstream: 'search' }), { url: '/' }, production));
    expect(body['detail']).toBe('Search is being re-indexed.');
    expect(body['upstream']).toBeUndefined();
    expect(body['retryAfter']).toBe(5);
  });

  it('names the upstream when asked to', () => {
    const conventions = defineConventions({ exposeUpstream: true, onError: false });
    expect(json(renderProblem(new BadGatewayError({ upstream: 'payments' }), { url: '/' }, conventions))['upstream']).toBe('payments');
  });

  it("adds the W3C trace-id beside the request ID", () => {
    const headers = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
    expect(json(renderProblem(new Error('x'), { headers }, production))['traceId']).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const future = { traceparent: '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds' };
    expect(json(renderProblem(new Error('x'), { headers: future }, production))['traceId']).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    for (const bad of [
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'garbage',
    ]) {
      expect(json(renderProblem(new Error('x'), { headers: { traceparent: bad } }, production))['traceId']).toBeUndefined();
    }
  });

  it('answers even when the body cannot be built, without a body for HEAD', () => {
    // A mapper's field errors that JSON cannot hold make the full body fail: the minimal one answers.
    const conventions = defineConventions({ onError: false, mappers: [() => ({ status: 400, errors: [{ detail: 1n as unknown as string }] })] });
    const get = renderProblem(new Error('x'), { method: 'GET', url: '/', id: 'r-1' }, conventions);
    expect(get.status).toBe(400);
    expect(JSON.parse(get.body!)).toMatchObject({ status: 400, requestId: 'r-1', type: 'about:blank' });
    expect(get.members).toEqual(JSON.parse(get.body!));
    expect(get.headers['cache-control']).toBe('no-store');
    expect(renderProblem(new Error('x'), { method: 'HEAD', url: '/', id: 'r-1' }, conventions).body).toBeNull();
  });

  it("offers the body's members unserialized, whatever the format, for answers of other shapes", () => {
    for (const conventions of [production, development]) {
      const problem = renderProblem(errno('ECONNREFUSED'), { method: 'GET', url: '/orders/7', id: 'r-1' }, conventions);
      expect(JSON.parse(JSON.stringify(problem.members))).toEqual(json(problem));
    }
    const head = renderProblem(errno('ECONNREFUSED'), { method: 'HEAD', url: '/', id: 'r-1' }, production);
    const html = renderProblem(errno('ECONNREFUSED'), { method: 'GET', url: '/', id: 'r-1', headers: { accept: 'text/html' } }, production);
    expect(head.members).toMatchObject({ status: 502, code: 'UPSTREAM_UNREACHABLE', requestId: 'r-1' });
    expect(html.members).toEqual(head.members);
  });

  it('has no body for HEAD, and the same headers', () => {
    const get = renderProblem(errno('ECONNRESET'), { method: 'GET', url: '/', id: 'r-1' }, production);
    const head = renderProblem(errno('ECONNRESET'), { method: 'HEAD', url: '/', id: 'r-1' }, production);
    expect(head.body).toBeNull();
    expect(head.headers).toEqual(get.headers);
  });

  it('percent-encodes an instance path that is not plain URL text', () => {
    const body = json(renderProblem(new Error('x'), { url: '/a b/<script>"x"?q=1' }, production));
    expect(body['instance']).toBe('/a%20b/%3Cscript%3E%22x%22');
    expect(json(renderProblem(new Error('x'), { url: 'http://internal.host:8080/p?x' }, production))['instance']).toBe('/p');
  });
});

describe('renderProblem: headers', () => {
  it('sets content type, no-store, nosniff, Vary: Accept, the request ID and Proxy-Status', () => {
    const problem = renderProblem(errno('ECONNREFUSED'), { url: '/', headers: { 'x-request-id': 'req-2' } }, production);
    expect(problem.headers).toEqual({
      'content-type': 'application/problem+json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      vary: 'Accept',
      'x-request-id': 'req-2',
      'proxy-status': 'gateway-errors; error=connection_refused',
    });
  });

  it('sends Retry-After on every 503', () => {
    expect(renderProblem(errno('EOPENBREAKER'), { url: '/' }, production).headers['retry-after']).toBe('5');
    expect(renderProblem(new ServiceUnavailableError({ retryAfter: 42 }), { url: '/' }, production).headers['retry-after']).toBe('42');
  });

  it("passes an upstream's status and Retry-After on, capped", () => {
    const upstream = Object.assign(new Error('Request failed with status code 503'), {
      isAxiosError: true,
      response: { status: 503, headers: { 'retry-after': '600' } },
    });
    const problem = renderProblem(upstream, { url: '/' }, production);
    expect(problem.headers['retry-after']).toBe('120');
    expect(problem.headers['proxy-status']).toBe('gateway-errors; received-status=503');
  });

  it('uses the configured request ID header, proxy name, or none', () => {
    const conventions = defineConventions({ requestIdHeader: 'x-correlation-id', proxyName: 'edge-api', onError: false });
    const problem = renderProblem(errno('ECONNRESET'), { url: '/', headers: { 'x-correlation-id': 'c-1' } }, conventions);
    expect(problem.headers['x-correlation-id']).toBe('c-1');
    expect(problem.headers['proxy-status']).toBe('edge-api; error=connection_terminated');
    const off = defineConventions({ proxyStatus: false, onError: false });
    expect(renderProblem(errno('ECONNRESET'), { url: '/' }, off).headers['proxy-status']).toBeUndefined();
  });

  it('sends no Proxy-Status for a client error', () => {
    expect(renderProblem(createHttpError(400), { url: '/' }, production).headers['proxy-status']).toBeUndefined();
  });
});

describe('renderProblem: content negotiation', () => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'application/problem+json; charset=utf-8'],
    ['*/*', 'application/problem+json; charset=utf-8'],
    ['application/json', 'application/problem+json; charset=utf-8'],
    ['application/problem+json', 'application/problem+json; charset=utf-8'],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'text/html; charset=utf-8'],
    ['text/plain', 'text/plain; charset=utf-8'],
    ['application/json, text/html;q=0.5', 'application/problem+json; charset=utf-8'],
    ['text/html;q=0, */*', 'application/problem+json; charset=utf-8'],
    ['image/png', 'application/problem+json; charset=utf-8'],
  ];

  it.each(cases)('Accept %s → %s', (accept, type) => {
    const headers = accept === undefined ? {} : { accept };
    expect(renderProblem(errno('ECONNRESET'), { url: '/', headers }, production).headers['content-type']).toBe(type);
  });

  it('escapes everything in the HTML page', () => {
    const problem = renderProblem(createHttpError(400, '<img src=x onerror=alert(1)>'), { url: '/', headers: { accept: 'text/html' } }, production);
    expect(problem.body).not.toContain('<img');
    expect(problem.body).toContain('&#60;img');
    expect(problem.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]{43}='$/);
  });

  it('writes plain text with the request ID', () => {
    const problem = renderProblem(errno('ETIMEDOUT'), { url: '/', id: 'r-9', headers: { accept: 'text/plain' } }, production);
    expect(problem.body).toBe('504 Upstream Timeout\n\nAn upstream service did not answer in time.\n\nRequest ID: r-9\n');
  });
});

describe('renderProblem: modes', () => {
  it('development adds a masked debug member', () => {
    const cause = errno('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.7:5432');
    const error = Object.assign(new Error('GET https://bob:hunter2@api.internal/x?token=t0k3n failed', { cause }), {
      config: { url: 'https://api.internal/x?api_key=k3y', headers: { Authorization: 'Bearer s3cr3t' } },
    });
    const problem = renderProblem(error, { url: '/', headers: { accept: 'application/json' } }, development);
    const body = json(problem);
    expect(body['debug']).toMatchObject({ name: 'Error', causes: [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.7:5432' }] });
    expect(problem.body).not.toMatch(/hunter2|t0k3n|k3y|s3cr3t/);
    expect(problem.body).toContain('api.internal');
    expect(problem.headers['proxy-status']).toContain('details=');
  });

  it('production never shows a debug member', () => {
    expect(json(renderProblem(new Error('x'), { url: '/' }, production))['debug']).toBeUndefined();
  });
});

describe('renderProblem: redaction in production', () => {
  const SECRETS = ['s3cr3t-pw', 'tok-SECRET', 'db.internal.example', '10.20.30.40', '54321', '/srv/app/secret-path.js', 'SELECT * FROM users', 'auth-SECRET'];
  const message = `connect to postgres://admin:s3cr3t-pw@db.internal.example:54321/app?token=tok-SECRET (10.20.30.40) at /srv/app/secret-path.js running SELECT * FROM users with Authorization: Bearer auth-SECRET`;

  function withSecrets(error: Error): Error {
    error.stack = `${error.name}: ${message}\n    at query (/srv/app/secret-path.js:54321:1)`;
    return Object.assign(error, {
      cause: Object.assign(new Error(message), { address: '10.20.30.40', port: 54321, hostname: 'db.internal.example' }),
      config: { url: `http://db.internal.example:54321/?token=tok-SECRET` },
      sql: 'SELECT * FROM users',
    });
  }

  const codes: Array<[string, () => Error]> = [
    ['UPSTREAM_UNREACHABLE', () => errno('ECONNREFUSED', message)],
    ['UPSTREAM_CONNECTION_LOST', () => errno('ECONNRESET', message)],
    ['UPSTREAM_TLS_FAILURE', () => errno('CERT_HAS_EXPIRED', message)],
    ['UPSTREAM_BAD_RESPONSE', () => errno('HPE_INVALID_CONSTANT', message)],
    ['UPSTREAM_ERROR_STATUS', () => Object.assign(new Error(message), { isAxiosError: true, response: { status: 500, headers: {} } })],
    ['UPSTREAM_TIMEOUT', () => errno('UND_ERR_HEADERS_TIMEOUT', message)],
    ['UPSTREAM_UNAVAILABLE', () => errno('EOPENBREAKER', message)],
    ['INTERNAL_ERROR', () => new Error(message)],
    ['CLIENT_CLOSED_REQUEST', () => Object.assign(new Error(message), { name: 'AbortError' })],
    ['UPSTREAM_UNAVAILABLE (application error)', () => new ServiceUnavailableError({ upstream: 'db', cause: new Error(message), url: `http://db.internal.example:54321/` })],
  ];

  for (const [code, make] of codes) {
    for (const accept of ['application/json', 'text/html', 'text/plain']) {
      it(`${code} as ${accept} leaks nothing`, () => {
        const problem = renderProblem(withSecrets(make()), { method: 'POST', url: '/orders', headers: { accept } }, production);
        expect(problem.classification.code).toBe(code.split(' ')[0]);
        const everything = `${problem.body} ${Object.entries(problem.headers).join(' ')}`;
        for (const secret of SECRETS) expect(everything).not.toContain(secret);
        expect(everything).not.toContain(message.slice(0, 20));
      });
    }
  }

  it('development still masks passwords, tokens and authorization values', () => {
    for (const [, make] of codes) {
      const problem = renderProblem(withSecrets(make()), { url: '/', headers: { accept: 'application/json' } }, development);
      for (const secret of ['s3cr3t-pw', 'tok-SECRET', 'auth-SECRET']) expect(problem.body).not.toContain(secret);
      expect(problem.body).toContain('db.internal.example');
    }
  });
});

describe('renderProblem: reporting', () => {
  it('calls onError every time with the original error and the request ID', () => {
    const reports: ErrorReport[] = [];
    const conventions = defineConventions({ onError: (report) => void reports.push(report) });
    const error = errno('ECONNRESET');
    renderProblem(error, { method: 'post', url: '/pay?x=1', id: 'r-7' }, conventions);
    renderProblem(createHttpError(404), { method: 'GET', url: '/x', id: 'r-8' }, conventions);
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatchObject({ error, requestId: 'r-7', method: 'POST', path: '/pay' });
    expect(reports[0]?.classification.code).toBe('UPSTREAM_CONNECTION_LOST');
  });

  it('a hook that throws or rejects never breaks the response', async () => {
    const throwing = defineConventions({
      onError: () => {
        throw new Error('logger down');
      },
    });
    expect(renderProblem(errno('ECONNRESET'), { url: '/' }, throwing).status).toBe(502);
    const rejecting = defineConventions({ onError: () => Promise.reject(new Error('logger down')) });
    expect(renderProblem(errno('ECONNRESET'), { url: '/' }, rejecting).status).toBe(502);
    await new Promise((resolve) => setTimeout(resolve, 10)); // an unhandled rejection would fail the run
  });

  it("uses the adapter's logger when no hook is set, and stderr as the last resort", () => {
    const log = vi.fn();
    renderProblem(errno('ECONNRESET'), { url: '/', log }, defineConventions({}));
    expect(log).toHaveBeenCalledOnce();
    const logger = { error: vi.fn() };
    renderProblem(errno('ECONNRESET'), { url: '/', id: 'r-0', logger }, defineConventions({}));
    renderProblem(createHttpError(404), { url: '/', logger }, defineConventions({}));
    expect(logger.error).toHaveBeenCalledOnce();
    expect(logger.error.mock.calls[0]).toEqual([expect.objectContaining({ requestId: 'r-0', status: 502 }), 'GET / failed: 502 UPSTREAM_CONNECTION_LOST']);
    const stderr = captureStderr();
    try {
      renderProblem(errno('ECONNRESET'), { url: '/', id: 'r-1' }, defineConventions({}));
      renderProblem(createHttpError(404), { url: '/', id: 'r-2' }, defineConventions({}));
      const lines = stderr.lines();
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0]!) as Record<string, unknown>;
      expect(line).toMatchObject({ level: 'error', requestId: 'r-1', status: 502, code: 'UPSTREAM_CONNECTION_LOST' });
    } finally {
      stderr.restore();
    }
  });

  it('decides once who logs: onError over the logger, the logger over the deprecated log function', () => {
    const calls: string[] = [];
    const logger = { error: () => void calls.push('logger') };
    const log = () => void calls.push('log');
    renderProblem(errno('ECONNRESET'), { url: '/', logger, log }, defineConventions({ onError: () => void calls.push('onError') }));
    renderProblem(errno('ECONNRESET'), { url: '/', logger, log }, defineConventions({ onError: false }));
    renderProblem(errno('ECONNRESET'), { url: '/', logger, log }, defineConventions({}));
    renderProblem(errno('ECONNRESET'), { url: '/', logger: 'not a logger' as never, log }, defineConventions({}));
    expect(calls).toEqual(['onError', 'logger', 'log']);
  });

  it('reads the logger once, as the request\'s own, and ignores one a polluted prototype holds', () => {
    let reads = 0;
    const logger = { error: vi.fn() };
    const request = {
      url: '/',
      get logger() {
        reads++;
        return logger;
      },
    };
    renderProblem(errno('ECONNRESET'), request, defineConventions({}));
    expect(reads).toBe(1);
    expect(logger.error).toHaveBeenCalledOnce();
    const stderr = captureStderr();
    Object.defineProperty(Object.prototype, 'logger', { value: logger, configurable: true });
    try {
      renderProblem(errno('ECONNRESET'), { url: '/' }, defineConventions({}));
      expect(logger.error).toHaveBeenCalledOnce();
      expect(stderr.lines()).toHaveLength(1);
    } finally {
      delete (Object.prototype as { logger?: unknown }).logger;
      stderr.restore();
    }
  });

  it('the log entry keeps the full error, masked', () => {
    const error = new Error('GET https://u:pw@x.test/?token=abc failed', { cause: errno('ECONNRESET') });
    const entry = toLogEntry({ error, classification: renderProblem(error, { url: '/' }, production).classification, requestId: 'r', method: 'GET', path: '/' });
    expect(entry.err.message).toBe('GET https://***@x.test/?token=*** failed: ECONNRESET failure');
    expect(entry.err.causes?.[0]?.code).toBe('ECONNRESET');
    expect(entry.err.stack).toMatch(/^Error: GET https:\/\/\*\*\*@x\.test\/\?token=\*\*\* failed\n {4}at [\s\S]*\ncaused by: Error: ECONNRESET failure\n/);
  });
});

describe('renderProblem: request IDs', () => {
  it('replaces a hostile incoming ID and never lets CR/LF through', () => {
    const problem = renderProblem(new Error('x'), { url: '/', headers: { 'x-request-id': 'a\r\nSet-Cookie: x=1' } }, production);
    expect(problem.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(problem.headers['x-request-id']).toBe(problem.requestId);
  });

  it('validates an ID the adapter passes in', () => {
    expect(renderProblem(new Error('x'), { url: '/', id: 'ok-1' }, production).requestId).toBe('ok-1');
    expect(renderProblem(new Error('x'), { url: '/', id: 'bad\nid' }, production).requestId).not.toContain('\n');
  });
});
