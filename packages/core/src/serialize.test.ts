import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { problemJson } from './serialize.js';

describe('problemJson', () => {
  const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '\u2028', '\ud800', '</script>'));
  const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

  it('is JSON.stringify of the body, byte for byte', () => {
    fc.assert(
      fc.property(
        fc.record({
          type: text,
          title: text,
          status: fc.integer({ min: 400, max: 599 }),
          detail: optional(text),
          instance: optional(text),
          code: text,
          proxyStatus: optional(fc.constantFrom('connection_refused', 'connection_timeout', 'http_response_timeout', 'dns_error')),
          requestId: text,
          traceId: optional(text),
          retryable: fc.boolean(),
          retryAfter: optional(fc.nat()),
          upstream: optional(text),
          errors: optional(fc.array(fc.record({ pointer: optional(text), detail: text }))),
          debug: optional(fc.record({ name: text, message: text, stack: optional(fc.array(text)) })),
        }),
        (body) => {
          expect(problemJson(body)).toBe(JSON.stringify(body));
        },
      ),
      { numRuns: 500 },
    );
  });
});
