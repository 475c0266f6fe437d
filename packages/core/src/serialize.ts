/**
 * Serialisation: the body of a problem in each negotiated form. The members are decided in
 * `render.ts`; this only writes them, escaped for their form.
 */
import type { Format } from './negotiate.js';
import type { ProblemBody } from './render.js';

/** @internal The body of a problem as JSON, an HTML page or plain text. */
export function serialize(body: ProblemBody, format: Format): string {
  if (format === 'json') return problemJson(body);
  const heading = `${body.status} ${body.title}`;
  const lines = body.errors?.map((entry) => entry.detail) ?? [];
  if (format === 'text') {
    let text = heading;
    if (body.detail !== undefined) text += `\n\n${body.detail}`;
    for (const line of lines) text += `\n- ${line}`;
    text += `\n\nRequest ID: ${body.requestId}\n`;
    if (body.debug !== undefined) text += `\n${JSON.stringify(body.debug, null, 2)}\n`;
    return text;
  }
  let html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(heading)}</title></head><body><h1>${escapeHtml(heading)}</h1>`;
  if (body.detail !== undefined) html += `<p>${escapeHtml(body.detail)}</p>`;
  if (lines.length > 0) html += `<ul>${lines.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`;
  html += `<p>Request ID: <code>${escapeHtml(body.requestId)}</code></p>`;
  if (body.debug !== undefined) html += `<pre>${escapeHtml(JSON.stringify(body.debug, null, 2))}</pre>`;
  return `${html}</body></html>\n`;
}

/**
 * `JSON.stringify(body)`, byte for byte, at half its cost: the members are known, and their
 * strings are nearly always printable ASCII that needs no escaping. Every failing request pays it.
 * @internal
 */
export function problemJson(body: ProblemBody): string {
  let json = `{"type":${jsonString(body.type)},"title":${jsonString(body.title)},"status":${body.status}`;
  if (body.detail !== undefined) json += `,"detail":${jsonString(body.detail)}`;
  if (body.instance !== undefined) json += `,"instance":${jsonString(body.instance)}`;
  json += `,"code":${jsonString(body.code)}`;
  if (body.proxyStatus !== undefined) json += `,"proxyStatus":${jsonString(body.proxyStatus)}`;
  json += `,"requestId":${jsonString(body.requestId)}`;
  if (body.traceId !== undefined) json += `,"traceId":${jsonString(body.traceId)}`;
  json += `,"retryable":${body.retryable}`;
  if (body.retryAfter !== undefined) json += `,"retryAfter":${JSON.stringify(body.retryAfter)}`;
  if (body.upstream !== undefined) json += `,"upstream":${jsonString(body.upstream)}`;
  if (body.errors !== undefined) json += `,"errors":${JSON.stringify(body.errors)}`;
  if (body.debug !== undefined) json += `,"debug":${JSON.stringify(body.debug)}`;
  return `${json}}`;
}

/** Printable ASCII but `"` and `\`: JSON holds it as it is. */
const JSON_PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function jsonString(text: string): string {
  return JSON_PLAIN.test(text) ? `"${text}"` : JSON.stringify(text);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
