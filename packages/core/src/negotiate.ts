/**
 * Content negotiation: which of the three forms of a problem the client gets. problem+json unless
 * the client prefers HTML or plain text.
 */

/** @internal The forms a problem is written in. */
export type Format = 'json' | 'html' | 'text';

/** @internal The `Content-Type` of each form. */
export const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  json: 'application/problem+json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

/**
 * @internal problem+json unless the client prefers HTML or plain text. Browsers send `text/html`
 * first; API clients send nothing, `*\/*` or a JSON type.
 */
export function negotiate(accept: string | undefined): Format {
  if (accept === undefined || (!accept.includes('html') && !accept.includes('text/plain'))) return 'json';
  let best: Format = 'json';
  let bestQ = 0;
  let bestRank = 0;
  for (const part of accept.split(',', 20)) {
    const [range = '', ...params] = part.split(';');
    const type = range.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key?.trim().toLowerCase() === 'q' && value !== undefined) q = Number(value.trim());
    }
    if (!(q > 0 && q <= 1)) continue;
    const match = formatOf(type);
    if (match === undefined) continue;
    // Same quality: the more specific range wins, then the server's preference (JSON).
    const rank = type === '*/*' ? 1 : type.endsWith('/*') ? 2 : 3;
    if (q > bestQ || (q === bestQ && rank > bestRank)) {
      best = match;
      bestQ = q;
      bestRank = rank;
    }
  }
  return best;
}

function formatOf(type: string): Format | undefined {
  switch (type) {
    case 'application/problem+json':
    case 'application/json':
    case 'application/*':
    case '*/*':
      return 'json';
    case 'text/html':
    case 'application/xhtml+xml':
      return 'html';
    case 'text/plain':
    case 'text/*':
      return 'text';
    default:
      return undefined;
  }
}
