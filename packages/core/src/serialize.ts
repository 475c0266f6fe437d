/**
 * Serialisation: the body of a problem in each negotiated form. The members are decided in
 * `render.ts`; this only writes them, escaped for their form.
 */
import type { ErrorDescription } from './describe.js';
import type { Format } from './negotiate.js';
import type { ProblemBody } from './render.js';

/** @internal The body of a problem as JSON, an HTML page or plain text. */
export function serialize(body: ProblemBody, format: Format): string {
  if (format === 'json') return problemJson(body);
  if (format === 'html') return htmlPage(body);
  let text = `${body.status} ${body.title}`;
  if (body.detail !== undefined) text += `\n\n${body.detail}`;
  for (const entry of body.errors ?? []) text += `\n- ${entry.detail}`;
  text += `\n\nRequest ID: ${body.requestId}\n`;
  if (body.debug !== undefined) text += `\n${JSON.stringify(body.debug, null, 2)}\n`;
  return text;
}

/**
 * The page's one style sheet. A constant, so the policy below can allow exactly it by its hash while
 * forbidding every other style, script, image, font and frame source. System fonts only; light and
 * dark follow the reader's setting; `pre` wraps, so no stack line runs off a phone's screen.
 * @internal
 */
export const HTML_STYLE: string =
  ':root{color-scheme:light dark;--bg:#f3f4f6;--card:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#eff2f5;--accent:#c62828}' +
  '@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--soft:#21262d;--accent:#ff7b72}}' +
  '.client{--accent:#9a6700}' +
  '@media (prefers-color-scheme:dark){.client{--accent:#d29922}}' +
  '*{box-sizing:border-box}' +
  'html{-webkit-text-size-adjust:100%;text-size-adjust:100%}' +
  'body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}' +
  'main{max-width:44rem;margin:0 auto;padding:clamp(1rem,5vw,3.5rem) clamp(.75rem,3vw,1.5rem);overflow-wrap:anywhere}' +
  '.card{background:var(--card);border:1px solid var(--line);border-top:6px solid var(--accent);border-radius:12px;padding:clamp(1.25rem,5vw,2.5rem)}' +
  '.status{margin:0;color:var(--accent);font-size:clamp(3.5rem,16vw,5.5rem);font-weight:800;line-height:1;letter-spacing:-.04em}' +
  'h1{margin:.5rem 0 1rem;font-size:clamp(1.35rem,5vw,1.9rem);line-height:1.25}' +
  'h2{margin:0 0 .25rem;font-size:.8rem;letter-spacing:.08em;text-transform:uppercase;color:var(--muted)}' +
  'p{margin:0 0 1rem}' +
  '.detail{font-size:1.1rem}' +
  'ul{margin:0 0 1rem;padding-left:1.25rem}' +
  '.todo{margin:1.5rem 0;padding:.9rem 1.1rem;background:var(--soft);border-left:4px solid var(--accent);border-radius:0 8px 8px 0}' +
  '.todo p{margin:0}' +
  'footer{margin-top:1.5rem;padding-top:1rem;border-top:1px solid var(--line);color:var(--muted);font-size:.925rem}' +
  'footer p{margin:0 0 .35rem}' +
  'code,pre{font:.875em/1.5 ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace}' +
  'code{padding:.1em .4em;background:var(--soft);border-radius:4px;color:var(--fg);-webkit-box-decoration-break:clone;box-decoration-break:clone}' +
  '.id{user-select:all;-webkit-user-select:all}' +
  '.debug{margin-top:2rem}' +
  '.debug h2{margin-bottom:.5rem}' +
  '.note{color:var(--muted);font-size:.925rem}' +
  '.error{margin:0 0 1rem;padding:1rem;border:1px solid var(--line);border-radius:8px}' +
  '.error h3{margin:0 0 .5rem;font-size:1rem;white-space:pre-wrap}' +
  '.error h3 small{display:block;color:var(--muted);font-size:.8rem;font-weight:600;letter-spacing:.06em;text-transform:uppercase}' +
  'dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25rem 1rem;margin:0 0 .75rem;font-size:.925rem}' +
  'dt{color:var(--muted)}' +
  'dd{margin:0;min-width:0}' +
  'pre{margin:0;padding:.75rem 1rem;background:var(--soft);border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.8rem}';

/**
 * The `Content-Security-Policy` of the HTML page: nothing may load or run; the one style sheet is
 * allowed by its SHA-256, precomputed because Web Crypto's digest is asynchronous (serialize.node.test.ts
 * recomputes it).
 * @internal
 */
export const HTML_CSP: string = "default-src 'none'; style-src 'sha256-rmvObkDxHYkUfhpnnWb1VMX2t2o5gcLnC/p4nrrO4vA='";

const HEAD = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><style>${HTML_STYLE}</style>`;

/**
 * The page a browser gets: the status and title, what happened, what the reader can do, the request ID
 * to quote and, in development, the masked details. Every value is escaped.
 */
function htmlPage(body: ProblemBody): string {
  const status = escapeHtml(String(body.status));
  const title = escapeHtml(body.title);
  const server = body.status >= 500;
  let html = `${HEAD}<title>${status} ${title}</title></head><body class="${server ? 'server' : 'client'}"><main><div class="card">`;
  html += `<p class="status">${status}</p><h1>${title}</h1>`;
  if (body.detail !== undefined) html += `<p class="detail">${escapeHtml(body.detail)}</p>`;
  const errors = body.errors ?? [];
  if (errors.length > 0) html += `<ul>${errors.map(fieldError).join('')}</ul>`;
  const todo = advice(body);
  if (todo !== undefined) html += `<div class="todo"><h2>What you can do</h2><p>${escapeHtml(todo)}</p></div>`;
  html += `<footer><p>Request ID: <code class="id">${escapeHtml(body.requestId)}</code></p>`;
  html += `<p>Quote it if you ask for help. Error code: <code>${escapeHtml(body.code)}</code>`;
  if (body.traceId !== undefined) html += `; trace: <code>${escapeHtml(body.traceId)}</code>`;
  html += '.</p></footer>';
  if (body.debug !== undefined) html += details(body);
  return `${html}</div></main></body></html>\n`;
}

function fieldError({ pointer, detail }: { readonly pointer?: string | undefined; readonly detail: string }): string {
  return `<li>${pointer === undefined ? '' : `<code>${escapeHtml(pointer)}</code> `}${escapeHtml(detail)}</li>`;
}

/**
 * @internal What the reader of the page can do: wait the Retry-After, try again, or, when sending the
 * request again is not safe, check whether a form went through first. A 4xx without a wait has
 * nothing to add to its detail.
 */
export function advice({ status, retryable, retryAfter }: Pick<ProblemBody, 'status' | 'retryable' | 'retryAfter'>): string | undefined {
  const wait = retryAfter === undefined ? undefined : waitFor(retryAfter);
  if (status < 500) return wait === undefined ? undefined : `Try again ${wait}.`;
  if (retryable) return `Try again ${wait ?? 'in a few moments'}.`;
  return `If you submitted a form, do not submit it again: it may have gone through. Check whether it did, then try again ${wait ?? 'later'}.`;
}

/** A delay in seconds as people say it: `in 30 seconds`, `in 3 minutes` (from 120 s), `in 2 hours` (from 120 min); never sooner than asked. */
function waitFor(seconds: number): string | undefined {
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  if (seconds < 1) return 'in a moment';
  if (seconds < 120) return plural(Math.ceil(seconds), 'second');
  if (seconds < 7200) return plural(Math.ceil(seconds / 60), 'minute');
  return plural(Math.ceil(seconds / 3600), 'hour');
}

function plural(count: number, unit: string): string {
  return `in ${count} ${unit}${count === 1 ? '' : 's'}`;
}

/** The development section: the masked description of the error and of each cause, stack lines wrapped. */
function details({ debug, upstream, proxyStatus }: ProblemBody): string {
  if (debug === undefined) return '';
  let html = '<section class="debug"><h2>Details</h2><p class="note">Shown in development only; credentials and secrets are masked.</p>';
  const facts: [string, string | undefined][] = [
    ['Upstream', upstream],
    ['Proxy error', proxyStatus],
  ];
  html += definitions(facts);
  html += described(debug, '');
  for (const cause of debug.causes ?? []) html += described(cause, 'Caused by');
  return `${html}</section>`;
}

function described(error: ErrorDescription, label: string): string {
  const { name, message, code, stack, upstream } = error;
  let html = `<div class="error"><h3>${label === '' ? '' : `<small>${escapeHtml(label)}</small>`}${escapeHtml(name)}${message === '' ? '' : `: ${escapeHtml(message)}`}</h3>`;
  html += definitions([
    ['Code', code === undefined ? undefined : String(code)],
    ['Upstream status', upstream?.status === undefined ? undefined : String(upstream.status)],
    ['Upstream URL', upstream?.url],
    ['Upstream request ID', upstream?.requestId],
  ]);
  if (stack !== undefined && stack.length > 0) html += `<pre>${escapeHtml(stack.join('\n'))}</pre>`;
  return `${html}</div>`;
}

function definitions(facts: readonly [string, string | undefined][]): string {
  let html = '';
  for (const [term, value] of facts) if (value !== undefined) html += `<dt>${term}</dt><dd><code>${escapeHtml(value)}</code></dd>`;
  return html === '' ? '' : `<dl>${html}</dl>`;
}

/**
 * `JSON.stringify(body)`, byte for byte, at half its cost: the members are known, and their
 * strings are nearly always printable ASCII that needs no escaping. Every failing request pays it.
 * @internal
 */
export function problemJson(body: ProblemBody): string {
  let json = head(body);
  if (body.instance !== undefined) json += `,"instance":${jsonString(body.instance)}`;
  json += `,"code":${jsonConstant(body.code)}`;
  if (body.proxyStatus !== undefined) json += `,"proxyStatus":${jsonConstant(body.proxyStatus)}`;
  json += `,"requestId":${jsonString(body.requestId)}`;
  if (body.traceId !== undefined) json += `,"traceId":${jsonString(body.traceId)}`;
  json += `,"retryable":${body.retryable}`;
  if (body.retryAfter !== undefined) json += `,"retryAfter":${JSON.stringify(body.retryAfter)}`;
  if (body.upstream !== undefined) json += `,"upstream":${jsonConstant(body.upstream)}`;
  if (body.errors !== undefined) json += `,"errors":${JSON.stringify(body.errors)}`;
  if (body.debug !== undefined) json += `,"debug":${JSON.stringify(body.debug)}`;
  return `${json}}`;
}

/** The members before `instance` of the last problem of each code, serialized. */
interface Head {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string | undefined;
  readonly json: string;
}

const HEADS = new Map<string, Head>();

/**
 * `{"type":…,"title":…,"status":…,"detail":…`: the same for nearly every problem of a code, so
 * kept per code and reused while the four members are the same strings (compared by identity
 * first, which is what the core's own strings match by).
 */
function head({ code, type, title, status, detail }: ProblemBody): string {
  const known = HEADS.get(code);
  if (known !== undefined && known.type === type && known.title === title && known.status === status && known.detail === detail) return known.json;
  let json = `{"type":${jsonConstant(type)},"title":${jsonConstant(title)},"status":${status}`;
  if (detail !== undefined) json += `,"detail":${jsonConstant(detail)}`;
  if ((known !== undefined || HEADS.size < MAX_CONSTANTS) && code.length <= MAX_CONSTANT_LENGTH && json.length <= 4 * MAX_CONSTANT_LENGTH) {
    HEADS.set(code, { type, title, status, detail, json });
  }
  return json;
}

/** Printable ASCII but `"` and `\`: JSON holds it as it is. */
const JSON_PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function jsonString(text: string): string {
  return JSON_PLAIN.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** Serialized members that repeat from one failure to the next (type, title, detail, code, …), by their text. */
const CONSTANTS = new Map<string, string>();
const MAX_CONSTANTS = 256;
const MAX_CONSTANT_LENGTH = 256;

/**
 * `jsonString` for members that are nearly always one of a few strings: a map lookup where the same
 * string object comes back (the core's titles, details and types keep their hash), the test and the
 * copy otherwise. Bounded: a mapper's endless variety only fills it up to its size.
 */
function jsonConstant(text: string): string {
  const known = CONSTANTS.get(text);
  if (known !== undefined) return known;
  const json = jsonString(text);
  if (CONSTANTS.size < MAX_CONSTANTS && text.length <= MAX_CONSTANT_LENGTH) CONSTANTS.set(text, json);
  return json;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
