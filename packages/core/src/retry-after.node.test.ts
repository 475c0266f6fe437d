/**
 * Retry-After from a real upstream: a 127.0.0.1 server answers 503 or 429 with
 * hostile Retry-After values; what fetchUpstream and axios bring back, and what
 * renderProblem sends on, is validated and capped.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineConventions } from './conventions.js';
import { ServiceUnavailableError } from './errors.js';
import { renderProblem } from './render.js';
import { fetchUpstream } from './upstream.js';
import { rejection } from './test-support/rejection.js';

const MAX = 120;
const DEFAULT = 5;
const conventions = defineConventions({ mode: 'production', onError: false, maxRetryAfter: MAX, defaultRetryAfter: DEFAULT });
const DELAY = /^\d{1,10}$/;
const IMF_FIXDATE = /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Values a server may legally send (Node.js refuses CR, LF and NUL), one header line each. */
const headerText = fc.string({ unit: fc.constantFrom(...'0123456789 -+.,eExX:GMTWedOctNa\t'), maxLength: 24 });
const hostile: fc.Arbitrary<readonly string[]> = fc.oneof(
  fc.oneof(
    fc.integer({ min: -1_000_000, max: 1_000_000_000_000 }).map(String),
    fc.double({ noNaN: false }).map(String),
    headerText,
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 40 }),
    fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }).map((date) => date.toUTCString()),
    fc.constantFrom('', '-1', '1e3', '0x10', 'Infinity', '99999999999', 'Wed, 21 Oct 2015 07:28:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT', '2030-01-01T00:00:00Z'),
  ).map((value) => [value]),
  // A repeated header: fetch joins the values, Node.js keeps the first.
  fc.array(fc.integer({ min: 0, max: 1000 }).map(String), { minLength: 2, maxLength: 3 }),
);

/** What a careful reader of the header gets: delay-seconds or a future HTTP-date, capped; else nothing. */
function valid(text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (DELAY.test(trimmed)) return Math.min(Number(trimmed), max);
  if (!IMF_FIXDATE.test(trimmed)) return undefined;
  const delta = Math.ceil((Date.parse(trimmed) - Date.now()) / 1000);
  return Number.isFinite(delta) && delta > 0 ? Math.min(delta, max) : undefined;
}

let server: Server;
let base: string;
const answers = new Map<string, { status: number; retryAfter: readonly string[] }>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const answer = answers.get(req.url ?? '');
    if (answer === undefined) return void res.writeHead(404).end();
    res.setHeader('retry-after', [...answer.retryAfter]);
    res.writeHead(answer.status, { 'content-type': 'text/plain' }).end('busy');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let counter = 0;
function serve(status: number, retryAfter: readonly string[]): string {
  const path = `/r/${++counter}`;
  answers.set(path, { status, retryAfter });
  return `${base}${path}`;
}

function expectHeader(header: string | undefined, sent: readonly string[]): void {
  expect(header).toMatch(/^(?:0|[1-9]\d{0,9})$/);
  expect(Number(header)).toBeLessThanOrEqual(MAX);
  const [only] = sent;
  // A past date, garbage or a repeated header gives the default; a valid value comes out capped.
  const expected = sent.length === 1 ? (valid(only, MAX) ?? DEFAULT) : DEFAULT;
  // A future date is read twice, a moment apart: allow the second that may pass in between.
  expect(Math.abs(Number(header) - expected)).toBeLessThanOrEqual(sent.length === 1 && IMF_FIXDATE.test(only!.trim()) ? 1 : 0);
}

describe('Retry-After from a real upstream', () => {
  it('fetchUpstream: a 503 or 429 becomes a ServiceUnavailableError with a validated Retry-After', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, fc.constantFrom(503, 429), async (sent, status) => {
        const error = await rejection(fetchUpstream('inventory', serve(status, sent)));
        expect(ServiceUnavailableError.isInstance(error)).toBe(true);
        const { retryAfter } = error as ServiceUnavailableError;
        if (retryAfter !== undefined) {
          expect(Number.isInteger(retryAfter)).toBe(true);
          expect(retryAfter).toBeGreaterThanOrEqual(0);
          expect(retryAfter).toBeLessThanOrEqual(86_400);
        }
        const problem = renderProblem(error, { method: 'GET', url: '/stock' }, conventions);
        expect(problem.status).toBe(503);
        // fetch joins a repeated header with ", ": not a valid value.
        expectHeader(problem.headers['retry-after'], sent.length === 1 ? sent : [sent.join(', ')]);
      }),
      { numRuns: 60 },
    );
  });

  it('axios: the upstream response it carries gives a validated Retry-After', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, fc.constantFrom(503, 429), async (sent, status) => {
        const error = await rejection(axios.get(serve(status, sent)));
        const problem = renderProblem(error, { method: 'GET', url: '/stock' }, conventions);
        expect(problem.status).toBe(503);
        // Node.js http keeps the first of a repeated Retry-After.
        expectHeader(problem.headers['retry-after'], sent.slice(0, 1));
      }),
      { numRuns: 40 },
    );
  });
});
