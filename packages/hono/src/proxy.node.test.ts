/**
 * proxyUpstream() and requestId() through Hono, @hono/node-server and proxy() from hono/proxy, on real
 * sockets on 127.0.0.1, against the fault servers.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineConventions, GatewayTimeoutError, ServiceUnavailableError } from '@gateway-errors/core';
import type { ErrorReport } from '@gateway-errors/core';
import { fetchUpstream, withUpstream } from '@gateway-errors/core/upstream';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { proxy } from 'hono/proxy';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { gatewayErrors, notFound, proxyUpstream, requestId } from './index.js';
import type { RequestIdVariables } from './index.js';
import { captureStderr } from '../../core/src/test-support/stderr.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

let faults: Faults;
let echo: Upstream;
const open: Array<() => Promise<void>> = [];

interface Upstream {
  readonly url: string;
  readonly seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** An upstream that answers 200 and remembers the headers of every request, with its own request ID. */
async function echoServer(): Promise<Upstream> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'upstream-7' }).end('{"ok":true}');
  });
  return { ...(await listen(server)), seen };
}

async function listen(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return closable(server);
}

function closable(server: Server): { url: string; close(): Promise<void> } {
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves the app with @hono/node-server on 127.0.0.1; closed after each test. */
async function gateway(app: Hono<{ Variables: RequestIdVariables }>, onAnswer?: (response: Response) => void): Promise<string> {
  const fetch = async (request: Request, env: unknown): Promise<Response> => {
    const response = await app.fetch(request, env);
    onAnswer?.(response);
    return response;
  };
  const server = await new Promise<Server>((resolve) => {
    const listening = serve({ fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(listening as Server));
  });
  const { url, close } = closable(server);
  open.push(close);
  return url;
}

function app(onError: ((report: ErrorReport) => void) | false | undefined = false): Hono<{ Variables: RequestIdVariables }> {
  const conventions = defineConventions({ onError, upstreamTimeoutMs: 5000 });
  const hono = new Hono<{ Variables: RequestIdVariables }>();
  hono.use(requestId(conventions));
  hono.onError(gatewayErrors(conventions));
  hono.notFound(notFound(conventions));
  return hono;
}

/** The parts of an answer that must not depend on whether the failure came through the proxy or was thrown. */
async function answerOf(response: Response) {
  const body = (await response.json()) as { code?: unknown; status?: unknown; proxyStatus?: unknown; retryable?: unknown };
  return {
    status: response.status,
    code: body.code,
    bodyStatus: body.status,
    proxyStatusMember: body.proxyStatus,
    retryable: body.retryable,
    contentType: response.headers.get('content-type'),
    cacheControl: response.headers.get('cache-control'),
    proxyStatus: response.headers.get('proxy-status'),
    retryAfter: response.headers.get('retry-after'),
  };
}

beforeAll(async () => {
  [faults, echo] = await Promise.all([startFaults(), echoServer()]);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((close) => close()));
  vi.restoreAllMocks();
});

afterAll(async () => {
  await Promise.all([faults.close(), echo.close()]);
});

describe('requestId() on answers the handler made itself', () => {
  it('sets the ID on proxy(), fetch() and new Response() answers, and keeps it on successful proxied ones', async () => {
    const hono = app();
    hono.get('/proxy', () => proxy(`${echo.url}/x`));
    // fetch()'s answer has immutable headers.
    hono.get('/fetch', () => fetch(`${echo.url}/x`));
    hono.get('/response', () => new Response('made', { headers: { 'x-own': '1' } }));
    hono.get('/upstream', (c) => proxyUpstream(c, `${echo.url}/x`, { upstream: 'orders' }));
    const url = await gateway(hono);
    for (const path of ['/proxy', '/fetch', '/response', '/upstream']) {
      const response = await fetch(`${url}${path}`, { headers: { 'x-request-id': `ok-${path.slice(1)}` } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('x-request-id'), path).toBe(`ok-${path.slice(1)}`);
      expect(await response.text(), path).toMatch(/ok|made/);
    }
    const generated = await fetch(`${url}/fetch`);
    expect(generated.headers.get('x-request-id')).toMatch(UUID);
    expect(generated.headers.get('content-type')).toBe('application/json');
    expect(await generated.json()).toEqual({ ok: true });
  });
});

describe('requestId() on @hono/node-server', () => {
  it("puts this request's ID, and no other, on every kind of answer", async () => {
    const shared = Object.freeze({ 'X-Request-Id': 'the-handlers-own', 'x-kept': 'yes' });
    const single = Object.freeze({ 'X-Request-Id': 'the-handlers-own' });
    const hono = app();
    hono.get('/json', (c) => c.json({ id: c.get('requestId') }));
    hono.get('/text', (c) => c.text('plain'));
    hono.get('/own-header', (c) => {
      c.header('x-request-id', 'set-by-the-handler');
      return c.text('own');
    });
    hono.get('/record', (c) => c.body('record', 200, shared));
    hono.get('/single', (c) => c.body('single', 200, single));
    hono.get('/response', () => new Response('made', { headers: { 'x-request-id': 'made-by-the-handler' } }));
    hono.get('/empty', (c) => c.body(null, 204));
    hono.get('/redirect', (c) => c.redirect('/json'));
    hono.get('/stream', () => new Response(new ReadableStream({ start: (controller) => controller.close() })));
    // The upstream answers with its own x-request-id.
    hono.get('/upstream-id', () => fetch(`${echo.url}/x`));
    const url = await gateway(hono);
    for (const path of ['/json', '/text', '/own-header', '/record', '/single', '/response', '/empty', '/redirect', '/stream', '/upstream-id']) {
      for (const incoming of ['node-1', undefined]) {
        const response = await fetch(`${url}${path}`, { headers: incoming === undefined ? {} : { 'x-request-id': incoming }, redirect: 'manual' });
        const id = response.headers.get('x-request-id');
        if (incoming === undefined) expect(id, path).toMatch(UUID);
        else expect(id, path).toBe(incoming);
        if (path === '/json') expect(await response.json()).toEqual({ id });
        else await response.arrayBuffer();
        if (path === '/record') expect(response.headers.get('x-kept')).toBe('yes');
      }
    }
    // The handler's records are its own: read, never changed.
    expect(shared).toEqual({ 'X-Request-Id': 'the-handlers-own', 'x-kept': 'yes' });
    expect(single).toEqual({ 'X-Request-Id': 'the-handlers-own' });
  });
});

describe('gatewayErrors() without requestId() on @hono/node-server', () => {
  it("keeps the problem's headers on node-server's lightweight Response", async () => {
    const hono = new Hono<{ Variables: RequestIdVariables }>();
    hono.onError(gatewayErrors({ onError: false }));
    hono.notFound(notFound({ onError: false }));
    hono.get('/x', () => fetch(`${faults.refused}/x`));
    const url = await gateway(hono);
    for (const [path, status] of [['/x', 502], ['/nowhere', 404]] as const) {
      const response = await fetch(`${url}${path}`, { headers: { 'x-request-id': 'bare-1' } });
      expect(response.status, path).toBe(status);
      expect(response.headers.get('content-type'), path).toBe('application/problem+json; charset=utf-8');
      expect(response.headers.get('cache-control'), path).toBe('no-store');
      expect(response.headers.get('x-request-id'), path).toBe('bare-1');
      await response.arrayBuffer();
    }
  });
});

describe('proxyUpstream()', () => {
  it("sends this request's ID and traceparent to the upstream, over the client's own", async () => {
    const hono = app();
    hono.get('/headers', (c) => proxyUpstream(c, `${echo.url}/h`, { upstream: 'orders', headers: { accept: 'application/json' } }));
    hono.get('/raw', (c) => proxyUpstream(c, `${echo.url}/r`, { upstream: 'orders', raw: c.req.raw }));
    const url = await gateway(hono);
    echo.seen.length = 0;

    const first = await fetch(`${url}/headers`, { headers: { 'x-request-id': 'rid-1', traceparent: TRACEPARENT } });
    expect(first.headers.get('x-request-id')).toBe('rid-1');
    // A hostile ID is replaced; with `raw`, the client's headers go along but the ID and trace context are ours.
    const second = await fetch(`${url}/raw`, { headers: { 'x-request-id': 'bad id', traceparent: 'not-a-traceparent', 'x-custom': 'kept' } });
    const id = second.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    await Promise.all([first.arrayBuffer(), second.arrayBuffer()]);

    expect(echo.seen).toHaveLength(2);
    expect(echo.seen[0]).toMatchObject({ 'x-request-id': 'rid-1', traceparent: TRACEPARENT, accept: 'application/json' });
    expect(echo.seen[1]).toMatchObject({ 'x-request-id': id, 'x-custom': 'kept' });
    expect(echo.seen[1]?.['traceparent']).toBeUndefined();
  });

  it("on Node.js, fetchUpstream and withUpstream in a handler forward this request's ID and traceparent by themselves", async () => {
    const hono = app();
    hono.get('/fetch', async (c) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const upstream = await fetchUpstream('orders', `${echo.url}/f`);
      return c.json(await upstream.json());
    });
    hono.get('/with', async (c) => {
      const upstream = await withUpstream('orders', (signal, { headers }) => fetch(`${echo.url}/w`, { signal, headers }));
      return c.json(await upstream.json());
    });
    const url = await gateway(hono);
    echo.seen.length = 0;
    const answers = await Promise.all([
      fetch(`${url}/fetch`, { headers: { 'x-request-id': 'rid-f', traceparent: TRACEPARENT } }),
      fetch(`${url}/with`, { headers: { 'x-request-id': 'rid-w' } }),
    ]);
    await Promise.all(answers.map((answer) => answer.arrayBuffer()));
    const byId = new Map(echo.seen.map((headers) => [headers['x-request-id'], headers]));
    expect(byId.get('rid-f')).toMatchObject({ traceparent: TRACEPARENT });
    expect(byId.get('rid-w')).toBeDefined();
    expect(byId.get('rid-w')?.['traceparent']).toBeUndefined();
  });

  it('records the upstream request ID on an error built from its answer', async () => {
    const reports: ErrorReport[] = [];
    const hono = app((report) => void reports.push(report));
    hono.get('/x', (c) =>
      proxyUpstream(c, `${echo.url}/x`, {
        upstream: 'orders',
        // The upstream answers 200; make it a 502 through a fetch that rewrites the status.
        customFetch: async (request) => {
          const response = await fetch(request);
          return new Response(response.body, { status: 502, headers: response.headers });
        },
      }),
    );
    const url = await gateway(hono);
    const response = await fetch(`${url}/x`, { headers: { 'x-request-id': 'rid-up' } });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ code: 'UPSTREAM_ERROR_STATUS', requestId: 'rid-up' });
    expect(reports).toHaveLength(1);
    expect((reports[0]?.error as { upstreamRequestId?: unknown }).upstreamRequestId).toBe('upstream-7');
  });

  describe('answers each failure as a route that throws the equivalent error does', () => {
    const rows: ReadonlyArray<{
      name: string;
      path: (f: Faults) => string;
      timeoutMs?: number;
      thrown: (f: Faults) => Promise<never>;
      expected: { status: number; code: string; proxyStatus: string; retryAfter?: string };
    }> = [
      {
        name: 'refused',
        path: (f) => `${f.refused}/orders`,
        thrown: (f) => fetch(`${f.refused}/orders`).then(() => Promise.reject(new Error('answered'))),
        expected: { status: 502, code: 'UPSTREAM_UNREACHABLE', proxyStatus: 'gateway-errors; error=connection_refused' },
      },
      {
        name: 'reset before the head',
        path: (f) => `${f.reset}/orders`,
        thrown: (f) => fetch(`${f.reset}/orders`).then(() => Promise.reject(new Error('answered'))),
        expected: { status: 502, code: 'UPSTREAM_CONNECTION_LOST', proxyStatus: 'gateway-errors; error=connection_terminated' },
      },
      {
        name: 'hang past the deadline',
        path: (f) => `${f.hang}/orders`,
        timeoutMs: 200,
        thrown: async () => {
          throw new GatewayTimeoutError({ upstream: 'orders', cause: new DOMException('The operation was aborted due to timeout', 'TimeoutError') });
        },
        expected: { status: 504, code: 'UPSTREAM_TIMEOUT', proxyStatus: 'gateway-errors; error=http_response_timeout' },
      },
      {
        name: 'garbage',
        path: (f) => `${f.garbage}/orders`,
        thrown: (f) => fetch(`${f.garbage}/orders`).then(() => Promise.reject(new Error('answered'))),
        expected: { status: 502, code: 'UPSTREAM_BAD_RESPONSE', proxyStatus: 'gateway-errors; error=http_protocol_error' },
      },
      {
        name: 'self-signed TLS',
        path: (f) => `${f.tls}/orders`,
        thrown: (f) => fetch(`${f.tls}/orders`).then(() => Promise.reject(new Error('answered'))),
        expected: { status: 502, code: 'UPSTREAM_TLS_FAILURE', proxyStatus: 'gateway-errors; error=tls_certificate_error' },
      },
      {
        name: 'upstream 503 with Retry-After: 7',
        path: (f) => `${f.status}/status/503`,
        thrown: async () => {
          throw new ServiceUnavailableError({ upstream: 'orders', upstreamStatus: 503, retryAfter: 7 });
        },
        expected: { status: 503, code: 'UPSTREAM_UNAVAILABLE', proxyStatus: 'gateway-errors; received-status=503', retryAfter: '7' },
      },
    ];

    for (const row of rows) {
      it(row.name, async () => {
        const hono = app();
        hono.get('/proxied', (c) => proxyUpstream(c, row.path(faults), { upstream: 'orders', timeoutMs: row.timeoutMs }));
        hono.get('/thrown', () => row.thrown(faults));
        const url = await gateway(hono);
        const proxied = await fetch(`${url}/proxied`, { headers: { 'x-request-id': 'row-1' } });
        const thrown = await fetch(`${url}/thrown`, { headers: { 'x-request-id': 'row-2' } });
        expect(proxied.headers.get('x-request-id')).toBe('row-1');
        expect(thrown.headers.get('x-request-id')).toBe('row-2');
        const answer = await answerOf(proxied);
        expect(answer).toEqual(await answerOf(thrown));
        expect(answer).toMatchObject({
          status: row.expected.status,
          code: row.expected.code,
          contentType: 'application/problem+json; charset=utf-8',
          cacheControl: 'no-store',
          retryAfter: row.expected.retryAfter ?? (row.expected.status === 503 ? expect.any(String) : null),
        });
        expect(answer.proxyStatus).toBe(row.expected.proxyStatus);
      });
    }

    it('reset after the head: the answer started, so its connection is cut (as a thrown body read is a 502)', async () => {
      const hono = app();
      hono.get('/proxied', (c) => proxyUpstream(c, `${faults.truncated}/orders`, { upstream: 'orders' }));
      hono.get('/stalled', (c) => proxyUpstream(c, `${faults.stallBody}/orders`, { upstream: 'orders', timeoutMs: 200 }));
      hono.get('/thrown', async () => {
        const response = await fetch(`${faults.truncated}/orders`);
        return new Response(await response.text());
      });
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      const url = await gateway(hono);
      for (const path of ['/proxied', '/stalled']) {
        const response = await fetch(`${url}${path}`, { headers: { 'x-request-id': 'cut-1' } });
        expect(response.status, path).toBe(200);
        expect(response.headers.get('x-request-id'), path).toBe('cut-1');
        await expect(response.text(), path).rejects.toThrow();
      }
      const thrown = await fetch(`${url}/thrown`);
      expect(await answerOf(thrown)).toMatchObject({ status: 502, code: 'UPSTREAM_CONNECTION_LOST', cacheControl: 'no-store' });
      errors.mockRestore();
    });
  });

  it('answers a client that hangs up during proxy() with a 499 that is not logged', async () => {
    /** Sends a request to /hang, hangs up once the handler runs, and waits for the app to finish it. */
    async function hangUp(
      hono: Hono<{ Variables: RequestIdVariables }>,
      call: (c: Context) => Promise<Response> = (c) => proxyUpstream(c, `${faults.hang}/orders`, { upstream: 'orders' }),
    ): Promise<Response> {
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      let finished!: (response: Response) => void;
      const done = new Promise<Response>((resolve) => (finished = resolve));
      hono.get('/hang', (c) => {
        entered();
        return call(c);
      });
      const url = await gateway(hono, finished);
      const client = new AbortController();
      const request = fetch(`${url}/hang`, { signal: client.signal, headers: { 'x-request-id': 'gone-1' } });
      await inside;
      client.abort();
      await expect(request).rejects.toThrow();
      return done;
    }

    const reports: ErrorReport[] = [];
    const hooked = await hangUp(app((report) => void reports.push(report)));
    expect(hooked.status).toBe(499);
    expect(reports.map(({ classification, requestId }) => [classification.status, classification.code, requestId])).toEqual([
      [499, 'CLIENT_CLOSED_REQUEST', 'gone-1'],
    ]);

    // The default logging (onError unset) writes 5xx on stderr: nothing here, nor a print of node-server's.
    const errors = vi.spyOn(console, 'error');
    const stderr = captureStderr();
    const quiet = await hangUp(app(undefined));
    expect(quiet.status).toBe(499);
    expect(quiet.headers.get('x-request-id')).toBe('gone-1');
    // A handler's own fetch() tied to the request's signal rejects with @hono/node-server's abort reason, a string.
    const own = await hangUp(app(undefined), (c) => fetch(`${faults.hang}/orders`, { signal: c.req.raw.signal }));
    expect(own.status).toBe(499);
    expect(errors).not.toHaveBeenCalled();
    stderr.restore();
    expect(stderr.lines()).toEqual([]);
  });
});
