import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineConventions } from './conventions.js';
import type { ConventionsOptions } from './conventions.js';
import { renderProblem } from './render.js';

describe('defineConventions', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('fills every default and freezes the result', () => {
    const conventions = defineConventions({ mode: 'production' });
    expect(conventions).toMatchObject({
      mode: 'production',
      typeBase: 'urn:gateway-errors:',
      requestIdHeader: 'x-request-id',
      trustIncomingRequestId: true,
      defaultRetryAfter: 5,
      maxRetryAfter: 120,
      exposeUpstream: false,
      proxyStatus: true,
      proxyName: 'gateway-errors',
      mappers: [],
      hopStorage: true,
    });
    expect(Object.isFrozen(conventions)).toBe(true);
    expect(Object.isFrozen(conventions.mappers)).toBe(true);
  });

  it('is idempotent: conventions pass through unchanged', () => {
    const conventions = defineConventions({ proxyName: 'edge' });
    expect(defineConventions(conventions)).toBe(conventions);
  });

  it('is production unless NODE_ENV says development', () => {
    vi.stubEnv('NODE_ENV', 'development');
    expect(defineConventions().mode).toBe('development');
    vi.stubEnv('NODE_ENV', 'test');
    expect(defineConventions().mode).toBe('production');
    vi.stubEnv('NODE_ENV', 'development');
    expect(defineConventions({ mode: 'production' }).mode).toBe('production');
  });

  const bad: Array<[string, ConventionsOptions, RegExp]> = [
    ['an unknown option', { typo: 1 } as ConventionsOptions, /unknown option `typo`/],
    ['a bad mode', { mode: 'prod' as 'production' }, /`mode` must be "production" or "development"/],
    ['a relative type base', { typeBase: '/errors/' }, /`typeBase` must be an absolute URI/],
    ['a header name with a space', { requestIdHeader: 'x request id' }, /`requestIdHeader`/],
    ['an empty header name', { requestIdHeader: '' }, /`requestIdHeader`/],
    ['a header name with a colon', { requestIdHeader: 'X-Request-Id:' }, /`requestIdHeader`/],
    ['a global pattern', { requestIdPattern: /a/g }, /`requestIdPattern`/],
    ['a negative Retry-After', { defaultRetryAfter: -1 }, /`defaultRetryAfter`/],
    ['a fractional Retry-After', { maxRetryAfter: 1.5 }, /`maxRetryAfter`/],
    ['a default above the cap', { defaultRetryAfter: 300, maxRetryAfter: 60 }, /at most maxRetryAfter \(60\)/],
    ['a proxy name with a space', { proxyName: 'my proxy' }, /`proxyName`/],
    ['a non-function hook', { onError: 'console' as unknown as false }, /`onError` must be a function or false/],
    ['a non-function mapper', { mappers: [42 as unknown as () => undefined] }, /`mappers`/],
    ['a hop storage that is not a boolean', { hopStorage: 'off' as unknown as boolean }, /`hopStorage` must be a boolean/],
  ];

  it.each(['X-Request-ID', 'X-Request-Id', 'x-request-id'])('takes the header name %s in any case and keeps it in lower case', (name) => {
    const conventions = defineConventions({ requestIdHeader: name, onError: false });
    expect(conventions.requestIdHeader).toBe('x-request-id');
    const problem = renderProblem(new Error('x'), { method: 'GET', url: '/', headers: { 'x-request-id': 'given-1' } }, conventions);
    expect(problem.headers['x-request-id']).toBe('given-1');
  });

  it.each(bad)('rejects %s at start-up', (_name, options, message) => {
    expect(() => defineConventions(options)).toThrow(TypeError);
    expect(() => defineConventions(options)).toThrow(message);
  });
});
