import { afterEach, describe, expect, it } from 'vitest';
import { isProblemType, MAX_PROBLEM_BYTES, parseProblem, problemFromBody } from './problem.js';

const PROBLEM = 'application/problem+json';

function problemResponse(body: BodyInit | null, contentType = PROBLEM, status = 502): Response {
  return new Response(body, { status, headers: { 'content-type': contentType } });
}

describe('isProblemType', () => {
  it.each([PROBLEM, 'Application/Problem+JSON; charset=utf-8', 'APPLICATION/PROBLEM+JSON', '  application/problem+json ;q=1', 'application/problem+json;charset=UTF-8'])('accepts %j', (type) => {
    expect(isProblemType(type)).toBe(true);
  });

  it.each(['text/html', 'application/json', 'application/problem+jsonx', 'application/problem+xml', 'x-application/problem+json', '', undefined, null, 42, {}])('refuses %j', (type) => {
    expect(isProblemType(type)).toBe(false);
  });

  it('refuses a megabyte of whitespace quickly instead of backtracking', () => {
    expect(isProblemType(`application/problem+json${' '.repeat(1_000_000)}x`)).toBe(false);
    expect(isProblemType(`${' '.repeat(1_000_000)}application/problem+json`)).toBe(false);
  });
});

describe('problemFromBody', () => {
  it('reads text, bytes and an already parsed object', () => {
    const json = '{"type":"https://errors.example.com/x","status":502,"retryable":true}';
    const expected = { type: 'https://errors.example.com/x', status: 502, retryable: true };
    expect(problemFromBody(PROBLEM, json)).toEqual(expected);
    expect(problemFromBody(PROBLEM, new TextEncoder().encode(json))).toEqual(expected);
    expect(problemFromBody(PROBLEM, new TextEncoder().encode(json).buffer)).toEqual(expected);
    expect(problemFromBody(PROBLEM, JSON.parse(json))).toEqual(expected);
  });

  it('answers undefined when the media type is not a problem, even for a problem-shaped body', () => {
    for (const type of ['text/html', 'application/json', undefined]) expect(problemFromBody(type, '{"type":"about:blank","status":502}')).toBeUndefined();
  });

  it('drops a standard member of the wrong type and keeps the rest', () => {
    const problem = problemFromBody(PROBLEM, { type: 7, title: ['x'], status: '502', detail: null, instance: {}, code: 'UPSTREAM_REFUSED' });
    expect(problem).toEqual({ type: 'about:blank', code: 'UPSTREAM_REFUSED' });
  });

  it('drops a status that is not an integer', () => {
    expect(problemFromBody(PROBLEM, { status: 502.5 })).toEqual({ type: 'about:blank' });
    expect(problemFromBody(PROBLEM, { status: Number.NaN })).toEqual({ type: 'about:blank' });
  });

  it('gives a problem without a type `about:blank`', () => {
    expect(problemFromBody(PROBLEM, '{"title":"Bad Gateway"}')).toEqual({ type: 'about:blank', title: 'Bad Gateway' });
  });

  it('keeps extensions as received, those named after Object.prototype members included', () => {
    const problem = problemFromBody(PROBLEM, '{"code":"UPSTREAM_TIMEOUT","retryable":"yes","retryAfter":5,"upstream":{"name":"orders"},"toString":"x","constructor":1,"hasOwnProperty":false}');
    expect(problem).toEqual({ type: 'about:blank', code: 'UPSTREAM_TIMEOUT', retryable: 'yes', retryAfter: 5, upstream: { name: 'orders' }, toString: 'x', constructor: 1, hasOwnProperty: false });
  });

  it('keeps a `__proto__` key harmless: no polluted prototype, neither of the problem nor of Object', () => {
    const problem = problemFromBody(PROBLEM, '{"__proto__":{"polluted":true,"retryable":true},"constructor":{"prototype":{"polluted":true}}}');
    expect(problem).toBeDefined();
    expect(Object.getPrototypeOf(problem)).toBe(Object.prototype);
    expect(problem?.retryable).toBeUndefined();
    expect((problem as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([['not json'], ['{"type":'], ['[]'], ['null'], ['"a string"'], ['42'], [''], ['\u0000']])('answers undefined for %j without a throw', (text) => {
    expect(problemFromBody(PROBLEM, text)).toBeUndefined();
  });

  it('answers undefined for a body over MAX_PROBLEM_BYTES, as text or bytes', () => {
    const long = JSON.stringify({ detail: 'x'.repeat(MAX_PROBLEM_BYTES) });
    expect(problemFromBody(PROBLEM, long)).toBeUndefined();
    expect(problemFromBody(PROBLEM, new TextEncoder().encode(long))).toBeUndefined();
  });

  it('survives an object whose getters throw', () => {
    const hostile = Object.defineProperty({}, 'type', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(problemFromBody(PROBLEM, hostile)).toBeUndefined();
  });
});

describe('parseProblem with a Response', () => {
  const polluted: string[] = [];
  afterEach(() => {
    for (const key of polluted) delete (Object.prototype as Record<string, unknown>)[key];
    polluted.length = 0;
  });

  it('reads a problem in any case of the media type, with parameters', async () => {
    const response = problemResponse('{"status":502,"code":"UPSTREAM_REFUSED","retryable":true}', 'Application/Problem+JSON; charset=utf-8');
    expect(await parseProblem(response)).toEqual({ type: 'about:blank', status: 502, code: 'UPSTREAM_REFUSED', retryable: true });
  });

  it.each(['text/html', 'application/json'])('answers undefined for %s', async (type) => {
    expect(await parseProblem(problemResponse('{"type":"about:blank","status":502}', type))).toBeUndefined();
  });

  it('answers undefined for a body that is not JSON, without a throw', async () => {
    expect(await parseProblem(problemResponse('<html>Bad Gateway</html>'))).toBeUndefined();
  });

  it('leaves the body to the caller', async () => {
    const response = problemResponse('{"status":503,"retryable":true}');
    expect(await parseProblem(response)).toMatchObject({ status: 503 });
    expect(response.bodyUsed).toBe(false);
    expect(await response.json()).toEqual({ status: 503, retryable: true });
  });

  it('answers undefined for a used body', async () => {
    const response = problemResponse('{"status":503}');
    await response.text();
    expect(await parseProblem(response)).toBeUndefined();
  });

  it('answers undefined for a response without a body', async () => {
    expect(await parseProblem(problemResponse(null))).toBeUndefined();
  });

  it('answers undefined for a body over MAX_PROBLEM_BYTES', async () => {
    expect(await parseProblem(problemResponse(JSON.stringify({ detail: 'x'.repeat(MAX_PROBLEM_BYTES) })))).toBeUndefined();
  });

  it('stops reading a body that never ends once past MAX_PROBLEM_BYTES', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024).fill(0x20));
      },
    });
    expect(await parseProblem(problemResponse(endless))).toBeUndefined();
    // The clone's tee pulls a little ahead; what matters is that it stopped.
    expect(pulled).toBeLessThan(MAX_PROBLEM_BYTES / 1024 + 16);
  });

  it('is not fooled by a polluted Object.prototype', async () => {
    polluted.push('retryable', 'data');
    Object.assign(Object.prototype, { retryable: true, data: '{"retryable":true}' });
    const problem = await parseProblem(problemResponse('{"status":502}'));
    expect(Object.hasOwn(problem ?? {}, 'retryable')).toBe(false);
  });
});

describe('parseProblem with anything else', () => {
  it.each([undefined, null, 'a string', 42, Symbol('x'), [], {}, { response: null }, { response: 'x' }, { response: { headers: null } }])('answers undefined for %s', async (input) => {
    expect(await parseProblem(input)).toBeUndefined();
  });

  it('answers undefined for a Proxy that throws on every trap', async () => {
    const trap = (): never => {
      throw new Error('trap');
    };
    const proxy = new Proxy({}, { get: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, getPrototypeOf: trap });
    expect(await parseProblem(proxy)).toBeUndefined();
  });

  it('reads a header record in any case, and the first of a repeated header', async () => {
    expect(await parseProblem({ response: { headers: { 'Content-Type': PROBLEM }, body: '{"code":"A"}' } })).toMatchObject({ code: 'A' });
    expect(await parseProblem({ response: { headers: { 'content-type': [PROBLEM, 'text/html'] }, body: '{"code":"B"}' } })).toMatchObject({ code: 'B' });
  });
});
