import type { ErrorHook } from './conventions.js';
import type { Problem } from './render.js';
import { STALE_HEADERS, toLogEntry } from './render.js';

/** The parts of a Node.js `ServerResponse` that {@link writeProblem} uses (structural: no Node.js import). */
export interface NodeResponseLike {
  statusCode: number;
  readonly headersSent: boolean;
  readonly writableEnded?: boolean | undefined;
  readonly destroyed?: boolean | undefined;
  getHeaderNames(): string[];
  removeHeader(name: string): void;
  setHeader(name: string, value: string): unknown;
  end(chunk?: string): unknown;
}

const STALE: ReadonlySet<string> = new Set(STALE_HEADERS);

/**
 * Writes a problem onto a Node.js-style response: drops the headers that
 * described the abandoned response, keeps the rest (CORS, HSTS, `Vary`), sets
 * the problem's status, headers and body. Returns `false`, writing nothing,
 * when the response already started or the client is gone.
 *
 * @example
 * ```ts
 * if (!writeProblem(res, renderProblem(err, { method: req.method, url: req.url, headers: req.headers }))) next(err);
 * ```
 */
export function writeProblem(res: NodeResponseLike, problem: Problem): boolean {
  if (res.headersSent || res.writableEnded === true || res.destroyed === true) return false;
  for (const name of res.getHeaderNames()) {
    if (STALE.has(name)) res.removeHeader(name);
  }
  const { headers } = problem;
  for (const name in headers) res.setHeader(name, headers[name]!);
  res.statusCode = problem.status;
  if (problem.body === null) res.end();
  else res.end(problem.body);
  return true;
}

/** A pino-, bunyan- or console-style logger. */
export interface LoggerLike {
  error(fields: object, message?: string): void;
}

/**
 * A logging hook that writes each 5xx once, as `logger.error(fields, message)`:
 * request ID, method, path, status, code, upstream and the full masked error
 * as `err`. 4xx and 499 are not logged.
 *
 * @example
 * ```ts
 * defineConventions({ onError: logWith(pino()) });
 * ```
 */
export function logWith(logger: LoggerLike): ErrorHook {
  return function logReport(report) {
    if (report.classification.status < 500 || isMuted(logger)) return;
    const { level: _level, msg, ...fields } = toLogEntry(report);
    logger.error(fields, msg);
  };
}

/**
 * A logger that would drop the line: pino below `error`, or a no-op logger (Fastify's without
 * `logger: true`, pino at `silent`) whose every level is one function. Building the entry would
 * be wasted work on every failing request.
 */
function isMuted(logger: LoggerLike): boolean {
  const { isLevelEnabled, trace, info } = logger as LoggerLike & { isLevelEnabled?: unknown; trace?: unknown; info?: unknown };
  if (typeof isLevelEnabled === 'function') return (isLevelEnabled as (level: string) => unknown).call(logger, 'error') === false;
  return typeof trace === 'function' && logger.error === trace && logger.error === info;
}

/** What a "no route matched" handler renders: a kept 404. */
export const ROUTE_NOT_FOUND: { readonly status: 404; readonly expose: true; readonly message: string } = Object.freeze({
  status: 404,
  expose: true,
  message: 'No route matches this request.',
});
