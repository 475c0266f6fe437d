/**
 * Retry-After: whatever an upstream, an error or a mapper says, what reaches a
 * client is whole seconds, validated and capped; garbage, negative, absurdly
 * large values and HTTP-dates in the past never pass through as they are.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineConventions } from './conventions.js';
import { BadGatewayError, ServiceUnavailableError } from './errors.js';
import { renderProblem } from './render.js';
import { parseRetryAfter } from './retry-after.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const DELAY = /^\d{1,10}$/;
const IMF_FIXDATE = /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** What upstreams and libraries put in a Retry-After. */
const hostileRetryAfter: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000_000_000 }).map(String),
  fc.double().map(String),
  fc.string({ maxLength: 40 }),
  fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 11, 31)) }).map((date) => date.toUTCString()),
  fc.constantFrom(
    '', ' ', '-0', '-1', '+5', '1e3', '0x1F', '1.5', 'Infinity', 'NaN', '5, 10', '99999999999999', ' 30 ',
    'Wed, 21 Oct 2015 07:28:00 GMT', 'Thu, 01 Jan 1970 00:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT',
    'Sun, 06 Nov 1994 08:49:37 GMT', 'Sunday, 06-Nov-94 08:49:37 GMT', 'Sun Nov  6 08:49:37 1994', '2030-01-01T00:00:00Z',
    '120\r\nSet-Cookie: x=1',
  ),
  fc.double(),
  fc.integer(),
  fc.date({ noInvalidDate: false }),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.anything(),
);

/** Delay-seconds, as a string or a number, or an HTTP-date. */
function expectedFrom(value: unknown, max: number, now: number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.min(Math.ceil(value), max) : undefined;
  const date = value instanceof Date ? value.getTime() : undefined;
  if (typeof value === 'string' && DELAY.test(value.trim())) return Math.min(Number(value.trim()), max);
  const time = date ?? (typeof value === 'string' && IMF_FIXDATE.test(value.trim()) ? Date.parse(value.trim()) : Number.NaN);
  if (!Number.isFinite(time) || time <= now) return undefined;
  const delta = Math.ceil((time - now) / 1000);
  return delta > 0 ? Math.min(delta, max) : undefined;
}

describe('parseRetryAfter', () => {
  it('returns whole seconds in [0, max], or nothing', () => {
    fc.assert(
      fc.property(hostileRetryAfter, fc.nat({ max: 86_400 }), (value, max) => {
        const seconds = parseRetryAfter(value, { max, now: NOW });
        if (seconds === undefined) return;
        expect(Number.isInteger(seconds)).toBe(true);
        expect(seconds).toBeGreaterThanOrEqual(0);
        expect(seconds).toBeLessThanOrEqual(max);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts delay-seconds and future HTTP-dates only, and caps them', () => {
    fc.assert(
      fc.property(hostileRetryAfter, fc.nat({ max: 86_400 }), (value, max) => {
        expect(parseRetryAfter(value, { max, now: NOW })).toBe(expectedFrom(value, max, NOW));
      }),
      { numRuns: 500 },
    );
  });

  it('rejects HTTP-dates in the past and negative delays', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.date({ min: new Date(0), max: new Date(NOW), noInvalidDate: true }).map((date) => date.toUTCString()),
          fc.integer({ max: -1 }).map(String),
          fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
        ),
        (value) => {
          expect(parseRetryAfter(value, { max: 3600, now: NOW })).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** Every way a Retry-After reaches a classification. */
const CARRIERS: Readonly<Record<string, (value: unknown) => unknown>> = {
  'upstream 503 (axios, got, ky)': (value) => ({ response: { status: 503, headers: { 'retry-after': value } } }),
  'upstream 429 in a Web Headers-like object': (value) => ({ response: { status: 429, headers: { get: (name: string) => (name === 'retry-after' ? value : null) } } }),
  'undici ResponseStatusCodeError': (value) => ({ code: 'UND_ERR_RESPONSE_STATUS_CODE', statusCode: 503, headers: { 'retry-after': value } }),
  'ServiceUnavailableError': (value) => new ServiceUnavailableError({ retryAfter: value as number }),
  'BadGatewayError': (value) => new BadGatewayError({ retryAfter: value as number }),
  "an application's 503": (value) => ({ status: 503, headers: { 'retry-after': value } }),
  "an application's 429": (value) => ({ status: 429, message: 'Slow down', headers: { 'retry-after': value } }),
  'a mapper refinement': (value) => Object.assign(new Error('mapped'), { code: 'ECONNREFUSED', mappedRetryAfter: value }),
};

describe('renderProblem: the Retry-After header', () => {
  it('is whole seconds, at most maxRetryAfter, on every 503 and 429, whatever the source said', () => {
    fc.assert(
      fc.property(
        hostileRetryAfter,
        fc.constantFrom(...Object.entries(CARRIERS)),
        fc.nat({ max: 86_400 }).chain((max) => fc.tuple(fc.constant(max), fc.nat({ max }))),
        (value, [_carrier, carry], [maxRetryAfter, defaultRetryAfter]) => {
          const conventions = defineConventions({
            onError: false,
            maxRetryAfter,
            defaultRetryAfter,
            mappers: [(error) => (typeof error === 'object' && error !== null && 'mappedRetryAfter' in error ? { retryAfter: error.mappedRetryAfter as number } : undefined)],
          });
          const problem = renderProblem(carry(value), { method: 'GET', url: '/' }, conventions);
          const header = problem.headers['retry-after'];
          if (problem.status === 503 || problem.status === 429) expect(header).toBeDefined();
          if (header === undefined) return;
          expect(header).toMatch(/^(?:0|[1-9]\d{0,9})$/);
          expect(Number(header)).toBeLessThanOrEqual(maxRetryAfter);
          expect(JSON.parse(problem.body!)).toMatchObject({ retryAfter: Number(header) });
        },
      ),
      { numRuns: 500 },
    );
  });

  it("is an upstream 503's own value when valid, capped, else defaultRetryAfter", () => {
    fc.assert(
      fc.property(hostileRetryAfter, fc.nat({ max: 86_400 }), (value, maxRetryAfter) => {
        const defaultRetryAfter = Math.min(5, maxRetryAfter);
        const conventions = defineConventions({ onError: false, maxRetryAfter, defaultRetryAfter });
        const problem = renderProblem({ response: { status: 503, headers: { 'retry-after': value } } }, { url: '/' }, conventions);
        // A header holds text: a number is read as its text, a lone array element as itself, anything else as nothing.
        const text = typeof value === 'number' ? String(value) : Array.isArray(value) && value.length === 1 ? (value[0] as unknown) : value;
        const sent = typeof text === 'string' ? text : undefined;
        expect(problem.headers['retry-after']).toBe(String(expectedFrom(sent, maxRetryAfter, Date.now()) ?? defaultRetryAfter));
      }),
      { numRuns: 500 },
    );
  });

  it('falls back to defaultRetryAfter on a 503 when the upstream sent garbage or a past date', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.date({ min: new Date(0), max: new Date(Date.now() - 1000), noInvalidDate: true }).map((date) => date.toUTCString()),
          fc.string().filter((text) => !DELAY.test(text.trim()) && !IMF_FIXDATE.test(text.trim())),
          fc.integer({ max: -1 }).map(String),
        ),
        fc.nat({ max: 600 }),
        (value, defaultRetryAfter) => {
          const conventions = defineConventions({ onError: false, defaultRetryAfter, maxRetryAfter: 600 });
          const problem = renderProblem({ response: { status: 503, headers: { 'retry-after': value } } }, { url: '/' }, conventions);
          expect(problem.headers['retry-after']).toBe(String(defaultRetryAfter));
        },
      ),
      { numRuns: 300 },
    );
  });
});
