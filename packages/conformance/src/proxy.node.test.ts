/**
 * The proxy table: every failure scenario through every framework's proxy integration, on real sockets
 * on 127.0.0.1, against the fault servers. A proxied failure must get the answer the same framework
 * gives a route that calls the same failing upstream with `fetchUpstream` (status, `code`,
 * `proxyStatus`, headers, body); an upstream that fails after its head leaves the client a broken
 * body; and the request ID and `traceparent` are forwarded, the upstream's own request ID logged.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { Socket } from 'node:net';
import { defineConventions, toLogEntry } from '@gateway-errors/core';
import type { ErrorReport } from '@gateway-errors/core';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemSchemaErrors } from './problem-schema.js';
import { proxyStacks } from './proxy-targets.js';
import type { RunningStack, Upstreams } from './proxy-targets.js';
import { captureServer, listening, TRACEPARENT } from './upstreams.js';
import type { Upstream } from './upstreams.js';

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';
/** Headers a proxied answer must share with the reference route's. */
const COMPARED = ['content-type', 'cache-control', 'proxy-status', 'retry-after', 'x-content-type-options', 'x-request-id'] as const;
/** In the client's query: it must not come back in a production body. */
const QUERY = '?token=tok-SECRET';

interface Scenario {
  readonly name: string;
  /** The upstream (a key of {@link Upstreams}) and the path asked of it. */
  readonly upstream: string;
  readonly path: string;
  readonly status: number;
  readonly code: string;
  /** The RFC 9209 error type, the body's `proxyStatus`. */
  readonly proxyError?: string;
  readonly proxyStatus: string;
  readonly retryAfter?: string;
}

/** What each failure must get, through a proxy and through a route alike. */
const scenarios: readonly Scenario[] = [
  { name: 'refused', upstream: 'refused', path: '/orders/7', status: 502, code: 'UPSTREAM_UNREACHABLE', proxyError: 'connection_refused', proxyStatus: 'gateway-errors; error=connection_refused' },
  { name: 'reset before the head', upstream: 'reset', path: '/orders/7', status: 502, code: 'UPSTREAM_CONNECTION_LOST', proxyError: 'connection_terminated', proxyStatus: 'gateway-errors; error=connection_terminated' },
  { name: 'hang past the deadline', upstream: 'hang', path: '/orders/7', status: 504, code: 'UPSTREAM_TIMEOUT', proxyError: 'http_response_timeout', proxyStatus: 'gateway-errors; error=http_response_timeout' },
  { name: 'garbage', upstream: 'garbage', path: '/orders/7', status: 502, code: 'UPSTREAM_BAD_RESPONSE', proxyError: 'http_protocol_error', proxyStatus: 'gateway-errors; error=http_protocol_error' },
  { name: 'self-signed TLS', upstream: 'tls', path: '/orders/7', status: 502, code: 'UPSTREAM_TLS_FAILURE', proxyError: 'tls_certificate_error', proxyStatus: 'gateway-errors; error=tls_certificate_error' },
  { name: 'upstream 503 with Retry-After: 7', upstream: 'status', path: '/status/503', status: 503, code: 'UPSTREAM_UNAVAILABLE', proxyStatus: 'gateway-errors; received-status=503', retryAfter: '7' },
];

// ---------------------------------------------------------------------------
// Upstreams of this file besides the fault servers

/**
 * A 200 head announcing 100 bytes and 5 of them, then nothing until `finish()` resets (RST) every
 * connection it holds: called once the client has seen those bytes, so the head surely went out first.
 */
async function resetAfterHeadServer(): Promise<Upstream & { finish(): void }> {
  const waiting = new Set<Socket>();
  const server = createNetServer((socket) => {
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nhello');
      waiting.add(socket);
    });
  });
  const finish = (): void => {
    for (const socket of waiting) socket.resetAndDestroy();
    waiting.clear();
  };
  return { ...(await listening(server)), finish };
}

// ---------------------------------------------------------------------------
// A client that tells a complete answer from a broken one

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body arrived whole. */
  readonly complete: boolean;
}

/** A GET on a fresh connection; `onData` is called with each chunk of the body. Bounded: 5 s. */
function get(url: string, headers: Record<string, string>, onData?: () => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      let body = '';
      let settled = false;
      const done = (complete: boolean): void => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, complete });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        onData?.();
      });
      res.on('end', () => done(res.complete));
      res.on('error', () => done(false));
      res.on('close', () => done(res.complete));
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no complete answer from ${url} within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** What a proxied answer and the reference route's must share: everything but `instance`, the path asked. */
function comparable(answer: Answer): object {
  const headers = Object.fromEntries(COMPARED.map((name) => [name, answer.headers[name]]));
  const { instance: _instance, ...body } = JSON.parse(answer.body) as Record<string, unknown>;
  return { status: answer.status, headers, body };
}

// ---------------------------------------------------------------------------

let faults: Faults;
let afterHead: Awaited<ReturnType<typeof resetAfterHeadServer>>;
let capture: Awaited<ReturnType<typeof captureServer>>;
let upstreams: Upstreams;

beforeAll(async () => {
  [faults, afterHead, capture] = await Promise.all([startFaults(), resetAfterHeadServer(), captureServer()]);
  upstreams = {
    refused: faults.refused,
    reset: faults.reset,
    hang: faults.hang,
    garbage: faults.garbage,
    tls: faults.tls,
    status: faults.status,
    'after-head': afterHead.url,
    capture: capture.url,
  };
});

afterAll(async () => {
  await Promise.all([faults.close(), afterHead.close(), capture.close()]);
});

/** Where an upstream is and what a production 5xx must never show of it. */
function secretsOf(upstream: string): string[] {
  const { host, port } = new URL(upstream);
  return [upstream, host, '127.0.0.1', 'localhost', `:${port}`, port, 'tok-SECRET', 'secret', '10.0.0.7', 'up-123'];
}

describe.each(proxyStacks)('$name', (stack) => {
  let app: RunningStack;
  const reports: ErrorReport[] = [];

  beforeAll(async () => {
    app = await stack.start(defineConventions({ mode: 'production', onError: (report) => void reports.push(report) }), upstreams);
  });

  afterAll(async () => {
    await app?.close();
  });

  describe('failures: the answer of a route that calls the same upstream with fetchUpstream', () => {
    it.each(scenarios)('$name: $status $code', async (scenario) => {
      const id = `px-${scenario.upstream}`;
      const proxied = await get(`${app.url}/p/${scenario.upstream}${scenario.path}${QUERY}`, { 'x-request-id': id });
      const reference = await get(`${app.url}/route/${scenario.upstream}${scenario.path}${QUERY}`, { 'x-request-id': id });

      expect(comparable(proxied)).toEqual(comparable(reference));
      // And what that answer is.
      expect(proxied.status).toBe(scenario.status);
      expect(proxied.complete).toBe(true);
      expect(proxied.headers['content-type']).toBe(PROBLEM_JSON);
      expect(proxied.headers['cache-control']).toBe('no-store');
      expect(proxied.headers['proxy-status']).toBe(scenario.proxyStatus);
      expect(proxied.headers['retry-after']).toBe(scenario.retryAfter);
      expect(proxied.headers['x-request-id']).toBe(id);
      const body = JSON.parse(proxied.body) as Record<string, unknown>;
      expect(problemSchemaErrors(body), proxied.body).toBeUndefined();
      expect(body).toMatchObject({ status: scenario.status, code: scenario.code, requestId: id, instance: `/p/${scenario.upstream}${scenario.path}` });
      expect(body['proxyStatus']).toBe(scenario.proxyError);
      if (scenario.retryAfter !== undefined) expect(body['retryAfter']).toBe(Number(scenario.retryAfter));
      // Nothing of the upstream: not its host, port or URL, not the client's query.
      const everything = `${proxied.body} ${JSON.stringify(proxied.headers)}`;
      for (const secret of secretsOf(upstreams[scenario.upstream]!)) expect(everything).not.toContain(secret);
    });

    it('reset after the head: the client sees a broken body, nothing appended', async () => {
      // The upstream resets once the client has the head and the first bytes.
      const answer = await get(`${app.url}/p/after-head/orders/7`, { 'x-request-id': 'px-after-head' }, () => afterHead.finish());
      expect(answer).toMatchObject({ status: 200, body: 'hello', complete: false });
    });
  });

  describe('forwarding', () => {
    /** The headers the upstream received with the request of this ID. */
    const receivedBy = (id: string): IncomingHttpHeaders | undefined => capture.seen.find((headers) => headers['x-request-id'] === id);

    it("passes the client's request ID and traceparent on unchanged", async () => {
      const answer = await get(`${app.url}/p/capture/ok`, { 'x-request-id': 'fw-trace', traceparent: TRACEPARENT });
      expect(answer.status).toBe(200);
      expect(answer.headers['x-request-id']).toBe('fw-trace');
      expect(receivedBy('fw-trace')).toMatchObject({ 'x-request-id': 'fw-trace', traceparent: TRACEPARENT });
    });

    it('invents no traceparent when the client sent none', async () => {
      const answer = await get(`${app.url}/p/capture/ok`, { 'x-request-id': 'fw-no-trace' });
      expect(answer.status).toBe(200);
      expect(receivedBy('fw-no-trace')).toBeDefined();
      expect(receivedBy('fw-no-trace')).not.toHaveProperty('traceparent');
      expect(receivedBy('fw-no-trace')).not.toHaveProperty('tracestate');
    });

    it("logs the upstream's own request ID of a 5xx, and never shows it", async () => {
      const before = reports.length;
      const answer = await get(`${app.url}/p/capture/fail`, { 'x-request-id': 'fw-fail' });
      expect(answer.status).toBe(502);
      expect(answer.headers['x-request-id']).toBe('fw-fail');
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'UPSTREAM_ERROR_STATUS', requestId: 'fw-fail' });
      expect(`${answer.body} ${JSON.stringify(answer.headers)}`).not.toContain('up-123');
      const mine = reports.slice(before).filter((report) => report.requestId === 'fw-fail');
      expect(mine).toHaveLength(1);
      expect(toLogEntry(mine[0]!).err.upstream?.requestId).toBe('up-123');
    });
  });
});
