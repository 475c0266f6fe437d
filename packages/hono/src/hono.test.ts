import { defineConventions } from '@gateway-errors/core';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { requestId as honoRequestId } from 'hono/request-id';
import { describe, expect, it } from 'vitest';
import { gatewayErrors, notFound, requestId } from './index.js';
import type { RequestIdVariables } from './index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const conventions = defineConventions({ onError: false });
const refused = () => new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }) });

function app() {
  const hono = new Hono<{ Variables: RequestIdVariables }>();
  hono.use(requestId(conventions));
  hono.onError(gatewayErrors(conventions));
  hono.notFound(notFound(conventions));
  return hono;
}

describe('@gateway-errors/hono', () => {

  it('catches thrown values that are not Errors, which skip onError', async () => {
    const hono = app();
    hono.get('/null', () => {
      throw null;
    });
    hono.get('/object', () => {
      throw { code: 'ECONNRESET' };
    });
    expect((await hono.request('/null')).status).toBe(500);
    const object = await hono.request('/object');
    expect(object.status).toBe(502);
    expect(await object.json()).toMatchObject({ code: 'UPSTREAM_CONNECTION_LOST' });
  });

  it("reuses hono/request-id's ID", async () => {
    const hono = new Hono<{ Variables: RequestIdVariables }>();
    hono.use(honoRequestId({ generator: () => 'hono-generated-1' }));
    hono.use(requestId(conventions));
    hono.onError(gatewayErrors(conventions));
    hono.get('/x', () => {
      throw refused();
    });
    const response = await hono.request('/x');
    expect(response.headers.get('x-request-id')).toBe('hono-generated-1');
    expect(await response.json()).toMatchObject({ requestId: 'hono-generated-1' });
  });

  it('validates an incoming ID and sets it on successful responses too', async () => {
    const hono = app();
    hono.get('/ok', (c) => c.json({ id: c.get('requestId') }));
    const ok = await hono.request('/ok', { headers: { 'x-request-id': 'ok-1' } });
    expect(ok.headers.get('x-request-id')).toBe('ok-1');
    expect(await ok.json()).toEqual({ id: 'ok-1' });
    const hostile = await hono.request('/ok', { headers: { 'x-request-id': 'a'.repeat(300) } });
    expect(hostile.headers.get('x-request-id')).toMatch(UUID);
  });

  it("keeps an HTTPException's status, and its own response when it has one", async () => {
    const hono = app();
    hono.get('/401', () => {
      throw new HTTPException(401, { message: 'Bad token' });
    });
    hono.get('/own', () => {
      throw new HTTPException(401, { res: new Response('Unauthorized', { status: 401, headers: { 'www-authenticate': 'Bearer' } }) });
    });
    const problem = await hono.request('/401', { headers: { 'x-request-id': 'p-1' } });
    expect(problem.status).toBe(401);
    expect(await problem.json()).toMatchObject({ code: 'UNAUTHORIZED', detail: 'Bad token' });
    const own = await hono.request('/own', { headers: { 'x-request-id': 'p-2' } });
    expect(own.status).toBe(401);
    expect(own.headers.get('www-authenticate')).toBe('Bearer');
    expect(own.headers.get('x-request-id')).toBe('p-2');
    expect(await own.text()).toBe('Unauthorized');
  });

  it("keeps the headers hono/cors sets on the context's response, and drops those of the abandoned one", async () => {
    const hono = new Hono();
    hono.use(cors({ origin: 'https://app.example' }));
    hono.use(requestId(conventions));
    hono.onError(gatewayErrors(conventions));
    hono.get('/x', (c) => {
      c.header('etag', '"abc"');
      c.header('cache-control', 'public, max-age=60');
      throw refused();
    });
    const response = await hono.request('/x', { headers: { origin: 'https://app.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(response.headers.get('etag')).toBeNull();
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('drops the headers of a response already made when a later step fails, and of one only prepared', async () => {
    const hono = new Hono();
    hono.use(requestId(conventions));
    hono.onError(gatewayErrors(conventions));
    hono.use('/made', async (_c, next) => {
      await next();
      // The handler answered; this step fails after it.
      throw refused();
    });
    hono.get('/made', (c) => c.json({ ok: true }, 200, { etag: '"v1"', 'cache-control': 'public, max-age=60', vary: 'accept' }));
    hono.get('/prepared', (c) => {
      c.header('content-language', 'de');
      c.header('cache-control', 'public, max-age=60');
      throw refused();
    });
    for (const path of ['/made', '/prepared']) {
      const response = await hono.request(path, { headers: { 'x-request-id': 'made-1' } });
      expect(response.status, path).toBe(502);
      expect(response.headers.get('cache-control'), path).toBe('no-store');
      expect(response.headers.get('content-type'), path).toBe('application/problem+json; charset=utf-8');
      expect(response.headers.get('etag'), path).toBeNull();
      expect(response.headers.get('content-language'), path).toBeNull();
      expect(response.headers.get('x-request-id'), path).toBe('made-1');
      expect(await response.json(), path).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', requestId: 'made-1' });
    }
    expect((await hono.request('/made', { headers: { 'x-request-id': 'made-2' } })).headers.get('vary')).toBe('accept');
  });

  it('answers unknown routes behind CORS with the CORS headers and a problem 404', async () => {
    const hono = new Hono();
    hono.use(cors({ origin: 'https://app.example' }));
    hono.use(requestId(conventions));
    hono.notFound(notFound(conventions));
    const response = await hono.request('/nowhere', { headers: { origin: 'https://app.example', 'x-request-id': 'nf-1' } });
    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(response.headers.get('x-request-id')).toBe('nf-1');
    expect(await response.json()).toMatchObject({ code: 'NOT_FOUND', requestId: 'nf-1' });
  });
});
