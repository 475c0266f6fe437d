/**
 * Totality: whatever is thrown, classify(), renderProblem() and the log views
 * return a valid answer, quickly, without throwing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import { defineConventions } from './conventions.js';
import { describeError } from './describe.js';
import { BadGatewayError, GatewayTimeoutError, ServiceUnavailableError } from './errors.js';
import { toLogEntry } from './log.js';
import { renderProblem } from './render.js';

/** A single call, even on a 10,000-deep chain, ends far below this. A guard against runaway work, not a benchmark. */
const BOUND_MS = 1000;
const BRAND = Symbol.for('gateway-errors.upstream-error');
const HUGE = 'x'.repeat(2_000_000);
const KNOWN_KEYS = [
  'name', 'message', 'code', 'cause', 'errors', 'stack', 'status', 'statusCode', 'response', 'headers', 'url', 'config',
  'options', 'request', 'event', 'syscall', 'severity', 'details', 'metadata', 'expose', 'detail', 'retryAfter',
  'upstream', 'upstreamStatus', 'isBoom', 'output', 'getStatus', 'getResponse', 'validation', 'toJSON', 'toString', 'valueOf',
] as const;

const boom = (): never => {
  throw new Error('trap');
};

/** Every trap throws, the `typeof`-visible ones included. */
const throwingProxy = (): object =>
  new Proxy(
    {},
    {
      get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom,
      set: boom, defineProperty: boom, deleteProperty: boom, isExtensible: boom, preventExtensions: boom, setPrototypeOf: boom,
    },
  );

const revokedProxy = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};

/** An object whose every interesting property is a throwing getter. */
const throwingGetters = (): object => {
  const target = Object.create(Error.prototype) as object;
  for (const key of KNOWN_KEYS) Object.defineProperty(target, key, { get: boom, configurable: true });
  Object.defineProperty(target, Symbol.toPrimitive, { get: boom });
  Object.defineProperty(target, BRAND, { get: boom });
  return target;
};

const deepChain = (depth: number, leaf: unknown): unknown => {
  let node: unknown = leaf;
  for (let i = 0; i < depth; i++) node = new Error(`level ${i}`, { cause: node });
  return node;
};

const cyclic = (length: number): Error => {
  const first = new Error('cycle 0');
  let last = first;
  for (let i = 1; i < length; i++) {
    const next = new Error(`cycle ${i}`);
    (last as { cause?: unknown }).cause = next;
    last = next;
  }
  (last as { cause?: unknown }).cause = first;
  return first;
};

/** Status-like values that are not HTTP statuses a response may carry. */
const oddStatus = fc.oneof(
  fc.constantFrom<unknown>('abc', '502', 999, 200, 0, -1, 99, 600, 1e21, 502.5, Number.NaN, Infinity, -Infinity, null, true, 2n),
  fc.integer(),
  fc.double(),
  fc.string(),
);
const anyStatus = fc.oneof(oddStatus, fc.integer({ min: 100, max: 599 }));
const oddRetryAfter = fc.oneof(fc.anything({ withDate: true }), fc.double(), fc.constantFrom<unknown>(new Date(Number.NaN), new Date(8.64e15), '-1', '1e99'));

/**
 * Hostile values are built inside the property, from a recipe: fast-check itself
 * would trip over a Proxy whose traps throw while it generates or prints values.
 */
type Recipe = () => unknown;

function recipe(label: string, make: Recipe): Recipe {
  return Object.defineProperty(() => make(), fc.toStringMethod, { value: () => label });
}

const data = (value: unknown): Recipe => recipe(fc.stringify(value), () => value);

const primitive = fc
  .oneof(
    fc.constantFrom<unknown>(null, undefined, 0, -0, Number.NaN, Infinity, '', true, false, 0n),
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.double(),
    fc.bigInt(),
  )
  .map(data);

const symbol = fc.string().map((description) => recipe(`Symbol(${JSON.stringify(description)})`, () => Symbol(description)));

/** Objects that other code would trip over. */
const HOSTILE: Readonly<Record<string, Recipe>> = {
  'huge string': () => HUGE,
  'Proxy whose traps throw': throwingProxy,
  'revoked Proxy': revokedProxy,
  'throwing getters': throwingGetters,
  'frozen Error': () => Object.freeze(Object.assign(new Error('frozen'), { code: 'ECONNRESET' })),
  'null-prototype object': () => Object.assign(Object.create(null) as object, { message: 'no prototype', code: 'ETIMEDOUT' }),
  'empty null-prototype object': () => Object.create(null) as object,
  'object inheriting from a hostile Proxy': () => Object.create(throwingProxy()) as object,
  'throwing toJSON, toString, valueOf': () => ({ toJSON: boom, toString: boom, valueOf: boom, [Symbol.toPrimitive]: boom, message: { toString: boom } }),
  'huge message, code, name and stack': () => Object.assign(new Error(HUGE), { code: HUGE, name: HUGE, stack: `${HUGE}\n${HUGE}` }),
  '200,000 stack lines': () => Object.assign(new Error('many'), { stack: 'Error\n'.repeat(200_000) }),
  '10,000-deep cause chain': () => deepChain(10_000, new Error('bottom')),
  '10,000-deep cause chain over ECONNREFUSED': () => deepChain(10_000, { code: 'ECONNREFUSED' }),
  'self-cause': () => cyclic(1),
  'cyclic cause chain': () => cyclic(3),
  'AggregateError of 100,000': () => new AggregateError(Array.from({ length: 100_000 }, (_, i) => ({ code: i })), 'wide'),
  'AggregateError-named with Proxy errors': () => Object.assign(new Error('agg'), { name: 'AggregateError', errors: throwingProxy() }),
  'AggregateError-named with revoked errors': () => Object.assign(new Error('agg'), { name: 'AggregateError', errors: revokedProxy() }),
  'AggregateError-named with a throwing array': () => Object.assign(new Error('agg'), { name: 'AggregateError', errors: new Proxy([1, 2], { get: boom }) }),
  'hostile response, url, config, request': () => ({ response: throwingProxy(), url: throwingProxy(), config: throwingProxy(), request: revokedProxy() }),
  'upstream 503 with hostile headers': () => ({ response: { status: 503, headers: throwingProxy() } }),
  'upstream 503 with throwing headers.get': () => ({ response: { status: 503, headers: { get: boom } } }),
  'url whose href throws': () => ({ url: { get href(): string { throw new Error('href'); } } }),
  'revoked url': () => ({ url: revokedProxy() }),
  'Boom with hostile output': () => ({ isBoom: true, output: throwingProxy() }),
  'throwing getStatus/getResponse': () => ({ getStatus: boom, getResponse: boom }),
  'odd getStatus/getResponse': () => ({ getStatus: () => 'abc', getResponse: () => ({ message: throwingProxy() }) }),
  'hostile validation': () => ({ status: 400, validation: new Proxy([], { get: boom }) }),
  'hostile field errors': () => ({ status: 422, errors: [throwingProxy(), { detail: HUGE, path: [throwingProxy()] }] }),
  'gRPC with hostile metadata': () => ({ code: 14, details: 'x', metadata: throwingProxy() }),
  'BadGatewayError over a Proxy': () => new BadGatewayError({ cause: throwingProxy(), url: HUGE }),
  'ServiceUnavailableError with an invalid date': () => new ServiceUnavailableError({ retryAfter: new Date(Number.NaN), cause: revokedProxy() }),
  'GatewayTimeoutError over a cycle': () => new GatewayTimeoutError({ cause: cyclic(2) }),
};
const hostileObject = fc.constantFrom(...Object.entries(HOSTILE)).map(([label, make]) => recipe(label, make));

/** Statuses that are not ours to answer with, wherever they hide. */
const oddFields = fc
  .oneof(
    fc.record({ status: anyStatus, statusCode: anyStatus, message: fc.string(), expose: fc.anything() }, { requiredKeys: [] }),
    fc.record({ response: fc.record({ status: anyStatus, statusCode: anyStatus, headers: fc.anything() }, { requiredKeys: [] }) }),
    fc.record({ code: fc.constantFrom('UND_ERR_RESPONSE_STATUS_CODE', 'UND_ERR_RESPONSE'), statusCode: anyStatus, headers: fc.anything() }),
    fc.record({ isBoom: fc.constant(true), output: fc.record({ statusCode: anyStatus, payload: fc.anything() }) }),
    fc.record({ retryAfter: oddRetryAfter, response: fc.record({ status: fc.constantFrom(429, 503), headers: fc.dictionary(fc.constantFrom('retry-after'), fc.anything()) }) }),
    fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: true }),
  )
  .map(data);

const nestStyle = fc
  .tuple(anyStatus, fc.anything())
  .map(([status, response]) => recipe(`HttpException-like ${fc.stringify(status)}`, () => ({ getStatus: () => status, getResponse: () => response })));

/** Objects branded like this library's errors, by another copy or by mistake. */
const forged = fc
  .record({ status: anyStatus, code: fc.anything(), upstreamStatus: anyStatus, retryAfter: oddRetryAfter, detail: fc.anything() }, { requiredKeys: [] })
  .map((fields) => recipe(`branded ${fc.stringify(fields)}`, () => Object.defineProperty({ ...fields }, BRAND, { value: true })));

/** This library's own errors, given whatever JavaScript callers pass. */
const ownErrors = fc
  .record(
    {
      kind: fc.constantFrom('BadGatewayError', 'ServiceUnavailableError', 'GatewayTimeoutError'),
      code: fc.oneof(fc.string(), fc.constantFrom('UPSTREAM_UNREACHABLE', 'UPSTREAM_ERROR_STATUS', 'ECONNREFUSED')),
      upstream: fc.anything(),
      detail: fc.anything(),
      upstreamStatus: anyStatus,
      retryAfter: oddRetryAfter,
      url: fc.anything(),
    },
    { requiredKeys: ['kind'] },
  )
  .map(({ kind, ...options }) =>
    recipe(`new ${kind}(${fc.stringify(options)})`, () => {
      // Deliberately untyped input, as from JavaScript callers.
      const init = options as unknown as ConstructorParameters<typeof BadGatewayError>[0];
      if (kind === 'BadGatewayError') return new BadGatewayError(init);
      return kind === 'ServiceUnavailableError' ? new ServiceUnavailableError(init) : new GatewayTimeoutError(init);
    }),
  );

/** Leaves, wrapped in causes, aggregates, branded errors and frozen objects, a few levels deep. */
const thrown: fc.Arbitrary<Recipe> = fc.letrec<{ value: Recipe }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    primitive,
    symbol,
    hostileObject,
    oddFields,
    nestStyle,
    forged,
    ownErrors,
    fc.tuple(fc.string(), tie('value')).map(([message, cause]) =>
      recipe(`Error(${JSON.stringify(message)}, { cause: ${fc.stringify(cause)} })`, () => new Error(message, { cause: cause() })),
    ),
    fc.tuple(tie('value'), oddStatus).map(([cause, status]) =>
      recipe(`{ status: ${fc.stringify(status)}, cause: ${fc.stringify(cause)} }`, () => ({ status, statusCode: status, cause: cause() })),
    ),
    fc.array(tie('value'), { maxLength: 4 }).map((errors) =>
      recipe(`AggregateError([${errors.map((make) => fc.stringify(make)).join(', ')}])`, () => new AggregateError(errors.map((make) => make()), 'several')),
    ),
    tie('value').map((cause) => recipe(`BadGatewayError({ cause: ${fc.stringify(cause)} })`, () => new BadGatewayError({ cause: cause() }))),
    tie('value').map((cause) => recipe(`frozen Error({ cause: ${fc.stringify(cause)} })`, () => Object.freeze(new Error('frozen', { cause: cause() })))),
  ),
})).value;

const request = fc.record({
  method: fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'delete'), fc.string()),
  url: fc.oneof(fc.constant('/orders/7?x=1'), fc.string(), fc.webUrl()),
  accept: fc.constantFrom(undefined, 'application/json', 'text/html', 'text/plain', '*/*', 'text/html;q=0, */*;q=NaN'),
});

const production = defineConventions({ mode: 'production', onError: false });
const development = defineConventions({ mode: 'development', onError: false });
/** A mapper that misbehaves as often as it answers. */
const withMappers = defineConventions({
  mode: 'development',
  onError: boom,
  mappers: [
    // Copies fields as they come: a valid status decides, anything else only refines.
    (error) => {
      if (typeof error !== 'object' || error === null || !('status' in error)) return undefined;
      const { status, upstreamStatus, retryAfter } = error as { status: number; upstreamStatus?: number; retryAfter?: number };
      return { status, upstreamStatus, retryAfter };
    },
    () => boom(),
  ],
});
const CONVENTIONS = [production, development, withMappers] as const;

function timed<TResult>(call: () => TResult): TResult {
  const start = performance.now();
  const result = call();
  expect(performance.now() - start).toBeLessThan(BOUND_MS);
  return result;
}

describe('classify() is total', () => {
  it('returns a 4xx/5xx classification for any thrown value', () => {
    fc.assert(
      fc.property(thrown, fc.constantFrom(...CONVENTIONS), (make, options) => {
        const error = make();
        const classification = timed(() => classify(error, { method: 'GET' }, options));
        expect(Number.isInteger(classification.status)).toBe(true);
        expect(classification.status).toBeGreaterThanOrEqual(400);
        expect(classification.status).toBeLessThanOrEqual(599);
        expect(typeof classification.code).toBe('string');
        expect(typeof classification.title).toBe('string');
        expect(typeof classification.retryable).toBe('boolean');
        if (classification.retryAfter !== undefined) {
          expect(Number.isInteger(classification.retryAfter)).toBe(true);
          expect(classification.retryAfter).toBeGreaterThanOrEqual(0);
          expect(classification.retryAfter).toBeLessThanOrEqual(options.maxRetryAfter);
        }
        if (classification.upstreamStatus !== undefined) {
          expect(Number.isInteger(classification.upstreamStatus)).toBe(true);
          expect(classification.upstreamStatus).toBeGreaterThanOrEqual(100);
          expect(classification.upstreamStatus).toBeLessThanOrEqual(599);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('renderProblem() is total', () => {
  it('returns a valid problem response for any thrown value, request and mode', () => {
    fc.assert(
      fc.property(thrown, request, fc.constantFrom(...CONVENTIONS), (make, { method, url, accept }, conventions) => {
        const error = make();
        const headers = accept === undefined ? {} : { accept };
        const problem = timed(() => renderProblem(error, { method, url, headers }, conventions));
        expect(Number.isInteger(problem.status)).toBe(true);
        expect(problem.status).toBeGreaterThanOrEqual(400);
        expect(problem.status).toBeLessThanOrEqual(599);
        for (const [name, value] of Object.entries(problem.headers)) {
          expect(name).toMatch(/^[a-z0-9-]+$/);
          expect(value).toMatch(/^[\t\x20-\x7e]*$/);
        }
        expect(problem.headers['cache-control']).toBe('no-store');
        const proxyStatus = problem.headers['proxy-status'];
        if (proxyStatus !== undefined) {
          // RFC 9209: a token, an error type, a three-digit received-status, a quoted details string.
          expect(proxyStatus).toMatch(/^[A-Za-z*][\w!#$%&'*+.^`|~:/-]*(?:; error=[a-z_]+)?(?:; received-status=[1-5]\d\d)?(?:; details="(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\\"])*")?$/);
        }
        const retryAfter = problem.headers['retry-after'];
        if (retryAfter !== undefined) expect(retryAfter).toMatch(/^\d{1,9}$/);
        if (method.toUpperCase() === 'HEAD') {
          expect(problem.body).toBeNull();
          return;
        }
        expect(typeof problem.body).toBe('string');
        if (problem.headers['content-type']?.startsWith('application/problem+json')) {
          const body = JSON.parse(problem.body!) as Record<string, unknown>;
          expect(body).toMatchObject({ status: problem.status, requestId: problem.requestId });
          expect(typeof body['type']).toBe('string');
          expect(typeof body['title']).toBe('string');
          expect(typeof body['code']).toBe('string');
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('the log views are total', () => {
  it('describeError() and toLogEntry() describe any thrown value', () => {
    fc.assert(
      fc.property(thrown, (make) => {
        const error = make();
        const description = timed(() => describeError(error));
        expect(typeof description.name).toBe('string');
        expect(typeof description.message).toBe('string');
        const entry = timed(() =>
          toLogEntry({ error, classification: classify(error), requestId: 'r-1', method: 'GET', path: '/' }),
        );
        expect(() => JSON.stringify(entry)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
