/**
 * The seam between the core and a framework's response: a small sink every platform supplies (a
 * Node.js `ServerResponse`, a Fastify reply, the Web `Headers` of a `Response`), and the one
 * function that writes a problem onto it, with one policy for a response that already started or
 * a client that is gone.
 */
import type { Problem } from './render.js';

/**
 * Response headers that describe a body or its caching. Any of them set before
 * the error must go: they belong to the response that was abandoned.
 */
export const STALE_HEADERS: readonly string[] = Object.freeze([
  'content-length',
  'content-encoding',
  'content-range',
  'content-disposition',
  'content-language',
  'content-location',
  'content-md5',
  'etag',
  'last-modified',
  'expires',
  'age',
  'pragma',
  'accept-ranges',
  'transfer-encoding',
  'location',
  'refresh',
]);

const STALE: ReadonlySet<string> = new Set(STALE_HEADERS);

/**
 * How far a response got when the error reached the handler: `open` (nothing sent), `started`
 * (its head went out, the body is under way) or `gone` (it ended, or the client left).
 */
export type ResponseState = 'open' | 'started' | 'gone';

/**
 * What {@link applyProblem} asks of a framework's response: a few lines over a Node.js
 * `ServerResponse` ({@link writeProblem} has them), a Fastify reply, or the `Headers` of a Web
 * `Response` made for the problem.
 *
 * @example
 * ```ts
 * const sink: ProblemSink = {
 *   state: () => (reply.raw.writableEnded || reply.raw.destroyed ? 'gone' : reply.raw.headersSent ? 'started' : 'open'),
 *   headerNames: () => Object.keys(reply.getHeaders()),
 *   removeHeader: (name) => void reply.removeHeader(name),
 *   setHeader: (name, value) => void reply.header(name, value),
 *   end: (status, body) => void reply.code(status).send(body ?? undefined),
 *   abort: () => void reply.raw.destroy(),
 * };
 * ```
 */
export interface ProblemSink {
  /** How far the response got; read once, before anything is written. */
  state(): ResponseState;
  /** The names of the headers set so far, in lower case. */
  headerNames(): Iterable<string>;
  removeHeader(name: string): void;
  setHeader(name: string, value: string): void;
  /**
   * The value of a header set so far. With it, the problem's `Vary` is added to the response's own
   * (`Vary: Origin` from CORS stays); without it, the problem's replaces it.
   */
  getHeader?(name: string): unknown;
  /** Sends the status and the body (`null`: none, for HEAD), ending the response. */
  end(status: number, body: string | null): void;
  /** Cuts the connection of a response that started. */
  abort(): void;
}

/**
 * Writes a problem onto a response, with the one policy every adapter shares. A response that
 * started cannot become a problem: its connection is cut, so the client sees a failed response
 * rather than a truncated one that looks complete. A response that ended, or whose client left,
 * gets nothing. Any other loses the headers that described the abandoned response
 * ({@link STALE_HEADERS}), keeps the rest (CORS, HSTS, `Vary`) and gets the problem's headers,
 * status and body. Returns whether the problem was written.
 *
 * @example
 * ```ts
 * applyProblem(sink, renderProblem(error, { method, url, headers, logger }, conventions));
 * ```
 */
export function applyProblem(sink: ProblemSink, problem: Problem): boolean {
  const state = sink.state();
  if (state === 'started') sink.abort();
  if (state !== 'open') return false;
  // Collected first: a Web `Headers` iterator skips entries deleted under it.
  let stale: string[] | undefined;
  for (const name of sink.headerNames()) if (STALE.has(name)) (stale ??= []).push(name);
  if (stale !== undefined) for (const name of stale) sink.removeHeader(name);
  const { headers } = problem;
  for (const name in headers) sink.setHeader(name, name === 'vary' ? varyOf(sink, headers[name]!) : headers[name]!);
  sink.end(problem.status, problem.body);
  return true;
}

const MAX_VARY = 1024;

/** The response's `Vary` with the problem's field names added (once, in any case); `*` stays `*`. */
function varyOf(sink: ProblemSink, vary: string): string {
  let existing: unknown;
  try {
    existing = sink.getHeader?.('vary');
  } catch {
    return vary;
  }
  const current = Array.isArray(existing) ? existing.filter((item) => typeof item === 'string').join(', ') : existing;
  if (typeof current !== 'string' || current.trim() === '' || current.length > MAX_VARY) return vary;
  const fields = current.split(',').map((field) => field.trim().toLowerCase());
  if (fields.includes('*')) return '*';
  const missing = vary.split(', ').filter((field) => !fields.includes(field.toLowerCase()));
  return missing.length === 0 ? current : `${current}, ${missing.join(', ')}`;
}
