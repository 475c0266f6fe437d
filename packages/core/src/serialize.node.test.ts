import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HTML_CSP, HTML_STYLE } from './serialize.js';

describe('the HTML page policy', () => {
  it("allows exactly the page's style sheet: the precomputed hash is the style sheet's", () => {
    const hash = createHash('sha256').update(HTML_STYLE, 'utf8').digest('base64');
    expect(HTML_CSP).toBe(`default-src 'none'; style-src 'sha256-${hash}'`);
  });
});
