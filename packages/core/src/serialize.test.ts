import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineConventions } from './conventions.js';
import type { ErrorDescription } from './describe.js';
import { ServiceUnavailableError } from './errors.js';
import { renderProblem } from './render.js';
import type { ProblemBody } from './render.js';
import { advice, HTML_CSP, HTML_STYLE, problemJson, serialize } from './serialize.js';

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

  it('is JSON.stringify of the body when problems of one code differ in type, title, status or detail', () => {
    // Codes from a small set, so each body meets the members kept for the last one of its code.
    const member = fc.constantFrom('A', 'B', 'é"', '');
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: member,
            title: member,
            status: fc.constantFrom(502, 503),
            detail: fc.option(member, { nil: undefined }),
            code: fc.constantFrom('X', 'Y'),
            requestId: fc.constant('r-1'),
            retryable: fc.boolean(),
          }),
          { minLength: 2, maxLength: 20 },
        ),
        (bodies) => {
          for (const body of bodies) expect(problemJson(body)).toBe(JSON.stringify(body));
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** A problem as the page of a browser shows it. */
function page(members: Partial<ProblemBody> = {}): string {
  return serialize({ type: 'about:blank', title: 'Upstream Unavailable', status: 503, code: 'UPSTREAM_UNAVAILABLE', requestId: 'r-1', retryable: true, ...members }, 'html');
}

/** What escaping makes of a text in the page. */
function escaped(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

describe('the HTML page', () => {
  it('is a whole page with its one style sheet, the one the policy allows, and nothing to load or run', () => {
    const html = page({ detail: 'An upstream service is temporarily unavailable.', retryAfter: 30 });
    expect(html).toMatch(/^<!doctype html><html lang="en"><head><meta charset="utf-8">/);
    expect(html).toContain('<meta name="viewport" content="width=device-width,initial-scale=1">');
    expect(html).toContain('<meta name="robots" content="noindex">');
    expect(html).toContain('<title>503 Upstream Unavailable</title>');
    expect(html.match(/<style>([^<]*)<\/style>/g)).toEqual([`<style>${HTML_STYLE}</style>`]);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<form| style=| on[a-z]+=|javascript:/i);
    // The style sheet loads nothing: no fonts, images or imports.
    expect(HTML_STYLE).not.toMatch(/url\(|@import|@font-face|<\//i);
    expect(HTML_STYLE).toContain('prefers-color-scheme:dark');
    expect(HTML_STYLE).toMatch(/pre\{[^}]*white-space:pre-wrap;overflow-wrap:anywhere/);
    expect(HTML_CSP).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]{43}='$/);
    expect(html).toMatch(/<p class="status">503<\/p><h1>Upstream Unavailable<\/h1><p class="detail">An upstream service is temporarily unavailable\.<\/p>/);
    expect(html).toContain('<p>Try again in 30 seconds.</p>');
    expect(html).toContain('Request ID: <code class="id">r-1</code>');
    expect(html.endsWith('</html>\n')).toBe(true);
  });

  it('escapes every value it shows', () => {
    const hostile = (field: string) => `</style><script>alert("${field}")</script>'&amp;<!--`;
    const cause: ErrorDescription = { name: hostile('cause.name'), message: hostile('cause.message'), code: hostile('cause.code'), stack: [hostile('cause.stack')] };
    const debug: ErrorDescription = {
      name: hostile('name'),
      message: hostile('message'),
      code: hostile('code'),
      stack: [hostile('stack.0'), hostile('stack.1')],
      upstream: { status: 503, url: hostile('upstream.url'), requestId: hostile('upstream.requestId') },
      causes: [cause],
    };
    const html = page({
      title: hostile('title'),
      detail: hostile('detail'),
      code: hostile('problem.code'),
      requestId: hostile('requestId'),
      traceId: hostile('traceId'),
      upstream: hostile('upstream'),
      proxyStatus: hostile('proxyStatus') as ProblemBody['proxyStatus'],
      errors: [{ pointer: hostile('pointer'), detail: hostile('errors.detail') }],
      debug,
    });
    const fields = ['title', 'detail', 'problem.code', 'requestId', 'traceId', 'upstream', 'proxyStatus', 'pointer', 'errors.detail', 'name', 'message', 'code', 'upstream.url', 'upstream.requestId', 'cause.name', 'cause.message', 'cause.code', 'cause.stack'];
    for (const field of fields) expect(html).toContain(escaped(hostile(field)));
    expect(html).toContain(escaped(`${hostile('stack.0')}\n${hostile('stack.1')}`));
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<!--');
    expect(html.split('</style>')).toHaveLength(2);
    // Every `&` the page holds starts an entity it wrote.
    expect(html).not.toMatch(/&(?!#\d+;)/);
    // Outside the style sheet, quotes only delimit the page's own attributes.
    const markup = html.replace(`<style>${HTML_STYLE}</style>`, '');
    expect(markup.replace(/ [a-z-]+="[a-z0-9=,. -]*"/g, '')).not.toMatch(/["']/);
  });

  it('escapes in one pass, whatever the length', () => {
    const long = '<&"'.repeat(100_000);
    const started = performance.now();
    const html = page({ detail: long, requestId: long });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(html).toContain(`<p class="detail">${'&#60;&#38;&#34;'.repeat(100_000)}</p>`);
  });

  it.each([
    [503, 30, 'Try again in 30 seconds.'],
    [503, 1, 'Try again in 1 second.'],
    [503, 119, 'Try again in 119 seconds.'],
    [503, 120, 'Try again in 2 minutes.'],
    [503, 150, 'Try again in 3 minutes.'],
    [503, 3600, 'Try again in 60 minutes.'],
    [503, 7200, 'Try again in 2 hours.'],
    [503, 0, 'Try again in a moment.'],
    [503, undefined, 'Try again in a few moments.'],
    [503, Number.NaN, 'Try again in a few moments.'],
    [503, -5, 'Try again in a few moments.'],
    [429, 5, 'Try again in 5 seconds.'],
    [502, 10, 'Try again in 10 seconds.'],
  ])('a %i with Retry-After %s: "%s"', (status, retryAfter, sentence) => {
    expect(advice({ status, retryable: true, retryAfter })).toBe(sentence);
    expect(page({ status, retryAfter })).toContain(`<h2>What you can do</h2><p>${sentence}</p>`);
  });

  it('does not ask to send again what may have gone through', () => {
    expect(advice({ status: 502, retryable: false, retryAfter: undefined })).toBe(
      'If you submitted a form, do not submit it again: it may have gone through. Check whether it did, then try again later.',
    );
    expect(advice({ status: 500, retryable: false, retryAfter: 60 })).toMatch(/^If you submitted a form, do not submit it again: .* then try again in 60 seconds\.$/);
  });

  it('lets the detail of a 4xx speak for itself', () => {
    expect(advice({ status: 404, retryable: false, retryAfter: undefined })).toBeUndefined();
    const html = page({ status: 422, title: 'Unprocessable Content', retryable: false, detail: 'Invalid order.', errors: [{ pointer: '#/qty', detail: 'must be positive' }] });
    expect(html).toContain('<p class="detail">Invalid order.</p><ul><li><code>#/qty</code> must be positive</li></ul>');
    expect(html).not.toContain('What you can do');
    expect(html).toContain('<body class="client">');
  });

  describe('rendered for a real failure', () => {
    const secret = new Error('GET https://bob:hunter2@api.internal:8443/orders?token=t0k3n failed (10.1.2.3) SELECT * FROM users', {
      cause: Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:8443'), { code: 'ECONNREFUSED' }),
    });
    const html = (mode: 'production' | 'development', error: unknown = secret) =>
      renderProblem(error, { method: 'GET', url: '/orders/7', id: 'r-7', headers: { accept: 'text/html' } }, defineConventions({ mode, onError: false }));

    it('shows no message, stack, cause, host, address, port, path or SQL in production', () => {
      const problem = html('production');
      expect(problem.status).toBe(502);
      expect(problem.headers['content-security-policy']).toBe(HTML_CSP);
      expect(problem.body).toContain('Request ID: <code class="id">r-7</code>');
      expect(problem.body).toContain('Try again in a few moments.');
      expect(problem.body).not.toMatch(/Details|hunter2|t0k3n|api\.internal|10\.1\.2\.3|8443|ECONNREFUSED|SELECT|Error:|serialize\.test|node_modules| at /);
    });

    it('shows the masked details in development, stack lines wrapped', () => {
      const body = html('development').body!;
      expect(body).toContain('<section class="debug"><h2>Details</h2>');
      expect(body).toContain('<small>Caused by</small>Error: connect ECONNREFUSED 10.1.2.3:8443');
      expect(body).toContain('<dt>Code</dt><dd><code>ECONNREFUSED</code></dd>');
      expect(body).toMatch(/<pre>at [^<]*serialize\.test\.ts/);
      expect(body).not.toMatch(/hunter2|t0k3n/);
    });

    it('says when to try again on a 503', () => {
      expect(html('production', new ServiceUnavailableError({ retryAfter: 30 })).body).toContain('<p>Try again in 30 seconds.</p>');
      expect(html('production', new ServiceUnavailableError({ retryAfter: 150 })).body).toContain('<p>Try again in 2 minutes.</p>');
      expect(html('production', new ServiceUnavailableError()).body).toContain('<p>Try again in 5 seconds.</p>');
    });
  });
});
