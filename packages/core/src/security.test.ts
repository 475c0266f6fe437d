/**
 * What an attacker tries against the core: a buried 4xx, values that change between reads, mapper
 * results of the wrong type, request strings of any length, a frozen pattern, a secret in the path.
 */
import createHttpError from 'http-errors';
import { describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import type { ErrorMapper } from './classify.js';
import { defineConventions } from './conventions.js';
import { BadGatewayError } from './errors.js';
import { problemResponse } from './problem-response.js';
import { renderProblem } from './render.js';
import type { Problem } from './render.js';
import { isValidRequestId, resolveRequestId } from './request-id.js';

const production = defineConventions({ mode: 'production', onError: false });
const ACCEPTS = ['application/problem+json', 'text/html', 'text/plain'] as const;
const BRAND = Symbol.for('gateway-errors.upstream-error');

function renderAll(error: unknown, conventions = production): Problem[] {
  return ACCEPTS.map((accept) => renderProblem(error, { method: 'GET', url: '/users/7', headers: { accept } }, conventions));
}

function everything(problem: Problem): string {
  return `${problem.body ?? ''} ${JSON.stringify(problem.members)} ${JSON.stringify(problem.headers)}`;
}

describe('a 4xx decides the answer only as the thrown error itself', () => {
  const inner = () => Object.assign(new Error('<secret> user 7 is hidden'), { status: 404, errors: [{ detail: '<secret> field' }] });

  it.each([
    ['in a cause', () => new Error('load user failed', { cause: inner() })],
    ['deep in a cause chain', () => new Error('a', { cause: new Error('b', { cause: inner() }) })],
    ['in an AggregateError', () => new AggregateError([createHttpError(409, '<secret> conflict')], 'all attempts failed')],
    ['an http-errors 404 in a cause', () => new Error('wrapped', { cause: createHttpError(404, '<secret> not here') })],
    ['a NestJS-style HttpException in a cause', () => new Error('wrapped', { cause: nestLike(404, '<secret> nest') })],
    ['a Boom 404 in a cause', () => new Error('wrapped', { cause: boomLike(404, '<secret> boom') })],
  ])('%s: a 500 showing nothing, in every content type', (_name, make) => {
    for (const problem of renderAll(make())) {
      expect(problem.status).toBe(500);
      expect(problem.classification.code).toBe('INTERNAL_ERROR');
      expect(problem.members.errors).toBeUndefined();
      expect(everything(problem)).not.toContain('<secret>');
      expect(everything(problem)).not.toContain('&#60;secret&#62;');
    }
  });

  it.each([
    ['a plain error with a status', () => Object.assign(new Error('No such order'), { status: 404 })],
    ['http-errors wrapping an error (createError(404, err))', () => createHttpError(404, new Error('No such order'))],
    ['a NestJS-style HttpException with a cause', () => Object.assign(nestLike(404, 'No such order'), { cause: new Error('db') })],
    ['a Boom error', () => boomLike(404, 'No such order')],
  ])('%s, thrown as it is, keeps its 404 and message', (_name, make) => {
    const [problem] = renderAll(make());
    expect(problem!.status).toBe(404);
    expect(problem!.members.detail).toBe('No such order');
  });

  it('upstream evidence is still found deep in the chain', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:80'), { code: 'ECONNREFUSED' });
    const result = classify(new Error('a', { cause: new Error('b', { cause: refused }) }));
    expect(result).toMatchObject({ status: 502, code: 'UPSTREAM_UNREACHABLE' });
    expect(classify(new AggregateError([refused], 'x'))).toMatchObject({ status: 502, code: 'UPSTREAM_UNREACHABLE' });
  });
});

describe('every field is read once', () => {
  /** A branded error whose status answers 502 first, then `second`. */
  function shifty(second: unknown): Error {
    const error = new Error('shifty');
    let reads = 0;
    Object.defineProperty(error, BRAND, { value: true });
    Object.defineProperty(error, 'status', { get: () => (reads++ === 0 ? 502 : second) });
    return error;
  }

  it.each([200, '1,"admin":true', 1000, -1, null])('a status getter that answers 502, then %j', (second) => {
    for (const accept of ACCEPTS) {
      const problem = renderProblem(shifty(second), { method: 'GET', url: '/x', headers: { accept } }, production);
      expect(problem.status).toBe(502);
      expect(problem.members.status).toBe(502);
      expect(everything(problem)).not.toContain('admin');
    }
    const [json] = renderAll(shifty(second));
    expect(JSON.parse(json!.body!)).toMatchObject({ status: 502 });
    const response = problemResponse(shifty(second), new Request('http://127.0.0.1/x'), production);
    expect(response.status).toBe(502);
  });

  it('a detail getter that answers a string, then an object, is read once', () => {
    const error = new BadGatewayError({ upstream: 'orders' });
    let reads = 0;
    Object.defineProperty(error, 'detail', { get: () => (reads++ === 0 ? 'Orders are paused.' : { toString: () => '","admin":true,"x":"' }) });
    const problem = renderProblem(error, { method: 'GET', url: '/x' }, production);
    expect(JSON.parse(problem!.body!)).toMatchObject({ detail: 'Orders are paused.' });
    expect(problem!.body).not.toContain('admin');
  });

  it('renderProblem and problemResponse never throw, whatever they are given', () => {
    const hostile = new Proxy({}, { get: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); } });
    for (const request of [null, undefined, 7, 'x', hostile, { method: 7, url: {}, headers: 'x', id: {}, log: 'x' }]) {
      const problem = renderProblem(new Error('x'), request as never, production);
      expect(problem.status).toBe(500);
      expect(() => JSON.parse(problem.body!)).not.toThrow();
    }
    for (const request of [null, undefined, hostile, {}]) {
      const response = problemResponse(shifty(1000), request as never, production);
      expect(response.status).toBe(502);
    }
  });

  it('a request method is a short token, else the request counts as a GET', () => {
    const reports: string[] = [];
    const conventions = defineConventions({ mode: 'production', onError: (report) => void reports.push(report.method) });
    renderProblem(new Error('x'), { method: 'A'.repeat(1_000_000), url: '/x' }, conventions);
    renderProblem(new Error('x'), { method: 'GET\r\nX: y', url: '/x' }, conventions);
    expect(reports).toEqual(['GET', 'GET']);
  });
});

describe('mapper results are validated and capped like built-in ones', () => {
  function render(result: unknown, error: unknown = new Error('boom'), method = 'GET'): Problem {
    const mapper = (() => result) as ErrorMapper;
    return renderProblem(error, { method, url: '/x' }, defineConventions({ mode: 'production', onError: false, mappers: [mapper] }));
  }

  it('a non-boolean retryable is dropped, never written into the body', () => {
    const problem = render({ status: 503, retryable: 'true,"admin":true' });
    expect(JSON.parse(problem.body!)).toMatchObject({ status: 503, retryable: true });
    expect(problem.body).not.toContain('admin');
    const refined = render({ retryable: '1,"admin":true' }, Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
    expect(JSON.parse(refined.body!)).toMatchObject({ status: 502, retryable: true });
    expect(refined.body).not.toContain('admin');
  });

  it('a detail that is not a string, or answers differently each time, is dropped', () => {
    let calls = 0;
    const detail = { toString: () => (calls++ === 0 ? 'plain' : '","admin":true,"x":"') };
    for (const result of [{ status: 502, detail }, { detail }, { status: 404, detail: 42 }]) {
      const problem = render(result);
      expect(() => JSON.parse(problem.body!)).not.toThrow();
      expect(problem.body).not.toContain('admin');
      expect(['string', 'undefined']).toContain(typeof JSON.parse(problem.body!).detail);
    }
  });

  it('detail, title and field errors are capped: a 1 MB detail and 100,000 field errors make a small body', () => {
    const errors = Array.from({ length: 100_000 }, (_, i) => ({ pointer: `#/${'p'.repeat(10_000)}${i}`, detail: 'd'.repeat(10_000) }));
    const problem = render({ status: 422, detail: 'x'.repeat(1_000_000), title: 't'.repeat(1_000_000), errors });
    const body = JSON.parse(problem.body!) as { detail: string; title: string; errors: { pointer: string; detail: string }[] };
    expect(body.detail.length).toBeLessThanOrEqual(1001);
    expect(body.title.length).toBeLessThanOrEqual(201);
    expect(body.errors).toHaveLength(100);
    expect(body.errors[0]!.pointer.length).toBeLessThanOrEqual(501);
    expect(problem.body!.length).toBeLessThan(200_000);
  });

  it('field errors of the wrong shape are dropped one by one', () => {
    const problem = render({ status: 400, errors: [null, 7, { detail: 3 }, { detail: 'ok', pointer: {} }, { message: 'also ok', path: ['a', 1] }] });
    expect(JSON.parse(problem.body!).errors).toEqual([{ detail: 'ok' }, { detail: 'also ok', pointer: '#/a/1' }]);
  });

  it.each([
    'connection_refused\r\nSet-Cookie: a=b',
    'connection_refused; details="x"',
    'connexion_refusée',
    'not_a_registered_type',
    42,
  ])('proxyError %j is not an RFC 9209 type and is dropped', (proxyError) => {
    const problem = render({ status: 502, code: 'UPSTREAM_UNREACHABLE', proxyError });
    expect(problem.headers['proxy-status']).toBeUndefined();
    for (const value of Object.values(problem.headers)) expect(value).toMatch(/^[\x20-\x7e]*$/);
  });

  it('a registered proxyError passes', () => {
    expect(render({ status: 502, proxyError: 'dns_timeout' }).headers['proxy-status']).toBe('gateway-errors; error=dns_timeout');
  });

  it('status, code, upstream and upstreamStatus of the wrong type or shape are dropped', () => {
    expect(render({ status: '404' }).status).toBe(500);
    expect(render({ status: 200 }).status).toBe(500);
    expect(render({ code: 'constructor' }).status).toBe(500);
    expect(render({ code: '__proto__' }).status).toBe(500);
    const odd = render({ status: 503, code: 'A"B', upstream: 'x'.repeat(1000), upstreamStatus: 1e21 }, new Error('x'));
    expect(odd.members.code).not.toContain('"');
    expect(odd.classification.upstream).toBeUndefined();
    expect(odd.classification.upstreamStatus).toBeUndefined();
  });

  it('a mapper result whose getters throw is ignored', () => {
    const result = new Proxy({}, { get: () => { throw new Error('trap'); } });
    expect(render(result).status).toBe(500);
  });
});

describe('strings from the request are capped wherever they land', () => {
  it('field-error pointers of a Fastify validation error', () => {
    const validation = Array.from({ length: 1000 }, () => ({ instancePath: `/${'k'.repeat(1_000_000)}`, message: 'must be string' }));
    const error = Object.assign(new Error('body/x must be string'), { statusCode: 400, code: 'FST_ERR_VALIDATION', validation, validationContext: 'body' });
    const problem = renderProblem(error, { method: 'POST', url: '/x' }, production);
    const body = JSON.parse(problem.body!) as { errors: { pointer: string; detail: string }[] };
    expect(body.errors).toHaveLength(100);
    for (const entry of body.errors) {
      expect(entry.pointer.length).toBeLessThanOrEqual(502);
      expect(entry.detail.length).toBeLessThanOrEqual(1001);
    }
    expect(problem.body!.length).toBeLessThan(200_000);
  });

  it('the path of the request in instance', () => {
    const problem = renderProblem(new Error('x'), { method: 'GET', url: `/${'a'.repeat(1_000_000)}` }, production);
    expect(problem.members.instance!.length).toBe(1024);
  });
});

describe('a caller RegExp is never mutated', () => {
  it('a frozen requestIdPattern works', () => {
    const conventions = defineConventions({ mode: 'production', onError: false, requestIdPattern: Object.freeze(/^[a-z-]{3,40}$/) });
    const problem = renderProblem(new Error('x'), { method: 'GET', url: '/x', headers: { 'x-request-id': 'abc-def' } }, conventions);
    expect(problem.requestId).toBe('abc-def');
    expect(problemResponse(new Error('x'), new Request('http://127.0.0.1/x', { headers: { 'x-request-id': 'abc-def' } }), conventions).headers.get('x-request-id')).toBe('abc-def');
    expect(resolveRequestId({ 'x-request-id': 'ABC' }, conventions)).not.toBe('ABC');
  });

  it('a global or sticky pattern passed to isValidRequestId keeps its lastIndex', () => {
    for (const pattern of [/^[a-z]+$/g, /[a-z]+/y, Object.freeze(/^[a-z]+$/g)]) {
      const before = pattern.lastIndex;
      expect(isValidRequestId('abc', pattern)).toBe(true);
      expect(isValidRequestId('abc', pattern)).toBe(true);
      expect(pattern.lastIndex).toBe(before);
    }
  });
});

describe('instance', () => {
  const url = '/reset/tok-3f9a1c/confirm?x=1';

  it('is the path by default', () => {
    expect(renderProblem(new Error('x'), { method: 'GET', url }, production).members.instance).toBe('/reset/tok-3f9a1c/confirm');
  });

  it('instance: false leaves it out', () => {
    const problem = renderProblem(new Error('x'), { method: 'GET', url }, defineConventions({ onError: false, instance: false }));
    expect(problem.members.instance).toBeUndefined();
    expect(problem.body).not.toContain('tok-3f9a1c');
  });

  it('a function replaces it; its answer is capped and encoded like a path, a throw leaves it out', () => {
    const render = (instance: (path: string) => string | undefined) =>
      renderProblem(new Error('x'), { method: 'GET', url }, defineConventions({ onError: false, instance })).members.instance;
    expect(render((path) => path.replace(/^\/reset\/[^/]+/, '/reset/{token}'))).toBe('/reset/%7Btoken%7D/confirm');
    expect(render(() => undefined)).toBeUndefined();
    expect(render(() => 'x'.repeat(5000))).toHaveLength(1024);
    expect(render(() => '"\r\n<b>')).toBe('%22%0D%0A%3Cb%3E');
    expect(render(() => 7 as never)).toBeUndefined();
    expect(render(() => { throw new Error('x'); })).toBeUndefined();
  });

  it('an instance option of the wrong type is refused at start-up', () => {
    expect(() => defineConventions({ instance: 'none' as never })).toThrow(/option `instance`/);
  });
});

function nestLike(status: number, message: string): Error {
  return Object.assign(new Error(message), {
    getStatus: () => status,
    getResponse: () => ({ statusCode: status, message }),
  });
}

function boomLike(status: number, message: string): Error {
  return Object.assign(new Error(message), { isBoom: true, output: { statusCode: status, payload: { statusCode: status, message } } });
}
