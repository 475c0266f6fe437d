/**
 * Request IDs: an incoming value passes unchanged only when it matches the
 * documented pattern; nothing a client sends, and nothing a configuration
 * generates, ever puts CR, LF or NUL into a response header.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineConventions } from './conventions.js';
import { renderProblem } from './render.js';
import { DEFAULT_REQUEST_ID_PATTERN, isValidRequestId, resolveRequestId } from './request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** What Node.js and the Fetch standard accept in a header value, minus the obsolete 0x80–0xFF. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:=+/';
const SPLITTERS = ['\r', '\n', '\r\n', '\0', '\u2028', '\u0085', '\t', ' '];

/** IDs that pass, IDs with a splitter somewhere, and anything else a client could send. */
const incoming: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 200 }),
  fc
    .tuple(fc.string({ unit: fc.constantFrom(...ID_CHARS), maxLength: 100 }), fc.constantFrom(...SPLITTERS), fc.string({ maxLength: 100 }))
    .map(([before, splitter, after]) => `${before}${splitter}${after}`),
  fc.constantFrom('abc\r\nSet-Cookie: session=evil', 'a'.repeat(201), 'x'.repeat(100_000), '', '\r\n', 'id\0'),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.integer(),
  fc.anything(),
);

/** The documented pattern, written out here so that a change to the source cannot move the goalposts. */
const DOCUMENTED = /^[A-Za-z0-9\-_.:=+/]{1,200}$/;
const passes = (value: unknown): boolean => typeof value === 'string' && DOCUMENTED.test(value);

describe('resolveRequestId', () => {
  it('keeps an incoming ID exactly when it matches the documented pattern; otherwise a UUID', () => {
    fc.assert(
      fc.property(incoming, (value) => {
        for (const headers of [{ 'x-request-id': value as string }, { get: (name: string) => (name === 'x-request-id' ? (value as string) : null) }]) {
          const id = resolveRequestId(headers);
          if (passes(value)) expect(id).toBe(value);
          else expect(id).toMatch(UUID);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never passes CR, LF, NUL or a non-ASCII character, whatever the configured pattern and generator', () => {
    fc.assert(
      fc.property(
        incoming,
        fc.constantFrom(/^[\s\S]*$/, /./, /^.*$/s, /(?:)/u, DEFAULT_REQUEST_ID_PATTERN),
        fc.oneof(incoming.map((generated) => () => generated as string), fc.constant(undefined)),
        (value, requestIdPattern, generateRequestId) => {
          const id = resolveRequestId({ 'x-request-id': value as string }, { requestIdPattern, generateRequestId });
          expect(id).toMatch(/^[\x21-\x7e]{1,1024}$/);
          expect(isValidRequestId(id, requestIdPattern)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('renderProblem headers', () => {
  it('never contain CR, LF or NUL, whatever the request sends and the configuration allows', () => {
    const permissive = defineConventions({
      mode: 'development',
      onError: false,
      requestIdHeader: 'x-correlation-id',
      requestIdPattern: /^[\s\S]*$/,
      generateRequestId: () => 'gen\r\nx-injected: 1',
    });
    const strict = defineConventions({ mode: 'production', onError: false });
    fc.assert(
      fc.property(
        incoming,
        incoming,
        fc.record({ accept: fc.string(), traceparent: fc.string(), 'idempotency-key': fc.string() }),
        fc.string({ unit: 'binary' }),
        (headerId, adapterId, other, message) => {
          for (const conventions of [permissive, strict]) {
            const headers = { ...other, 'x-request-id': headerId as string, 'x-correlation-id': headerId as string };
            const error = Object.assign(new Error(message), { code: 'ECONNRESET', upstreamStatus: 503 });
            for (const id of [undefined, adapterId as string]) {
              const problem = renderProblem(error, { method: 'GET', url: message, headers, id }, conventions);
              for (const [name, value] of Object.entries(problem.headers)) {
                expect(name).toMatch(/^[a-z0-9-]+$/);
                expect(value).toMatch(HEADER_VALUE);
                expect(value).not.toMatch(/[\r\n\0]/);
              }
              expect(problem.headers[conventions.requestIdHeader]).toBe(problem.requestId);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
