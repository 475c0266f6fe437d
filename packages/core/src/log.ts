/**
 * Logging: the report the core makes of every rendered error, and the one place that decides where
 * it goes and what a default logger writes. Adapters hand over their framework's logger, never a
 * log function of their own: each 5xx is written once, as the masked log entry; a 4xx is the
 * client's and a 499 is a client that left, so neither is logged by default.
 */
import type { Classification } from './classify.js';
import { describeForLog } from './describe.js';
import { writeLine } from './stderr.js';
import type { LoggedError } from './describe.js';

/** What the logging hook receives for every error the core renders. */
export interface ErrorReport {
  /** The value that was thrown, untouched. */
  readonly error: unknown;
  readonly classification: Classification;
  readonly requestId: string;
  readonly method: string;
  /** The request path, without its query string. */
  readonly path: string;
}

/** Receives every rendered error. May return a promise; a throw or rejection is swallowed. */
export type ErrorHook = (report: ErrorReport) => void | Promise<void>;

/** What an observer receives for every problem answered: the report, and how much the answer may show. */
export interface ProblemObservation extends ErrorReport {
  /** The conventions' mode: an observer must not record an error's message in `production`. */
  readonly mode: 'production' | 'development';
}

/**
 * Sees every problem answered, in the request's context (its active span), before the answer is
 * written: where traces and metrics are recorded. A throw, or a returned promise's rejection, is swallowed.
 */
export type ProblemObserver = (observation: ProblemObservation) => void;

/**
 * A pino-, bunyan- or console-style logger: what an adapter hands over as
 * `ProblemRequest.logger` (pino's `request.log`, a shim for Nest's `Logger`, `console`).
 */
export interface LoggerLike {
  error(fields: object, message?: string): void;
  /**
   * pino's: the fields the logger writes on each of its lines. When one of them is the request ID
   * (Fastify's `request.log` binds it under `requestIdLogLabel`, `reqId` by default; pino-http's
   * `quietReqLogger` as `reqId`), the record leaves out its own `requestId`, so a line names the ID once.
   */
  bindings?(): object;
}

/**
 * A log record for a report: what every adapter's default logging writes, through pino, Nest's Logger
 * or as a JSON line on stderr, with the same fields and names.
 */
export interface LogEntry {
  readonly level: 'error' | 'warn';
  readonly msg: string;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly code: string;
  /** The upstream's logical name, when the failure is tagged with one. */
  readonly upstream?: string | undefined;
  /** The error in the shape of pino's `err` serializer, masked: type, message and stack of the chain, code, upstream, causes. */
  readonly err: LoggedError;
}

/**
 * Builds the log record of a report: request ID, method, path, status, code,
 * upstream and the full (masked) error with its causes and stack ({@link describeForLog}).
 *
 * @example
 * ```ts
 * onError: (report) => pino.error(toLogEntry(report))
 * ```
 */
export function toLogEntry(report: ErrorReport): LogEntry {
  const { classification } = report;
  const entry = {
    level: classification.status >= 500 ? 'error' : 'warn',
    msg: `${report.method} ${report.path} failed: ${classification.status} ${classification.code}`,
    requestId: report.requestId,
    method: report.method,
    path: report.path,
    status: classification.status,
    code: classification.code,
  } as const;
  const err = describeForLog(report.error);
  return classification.upstream === undefined ? { ...entry, err } : { ...entry, upstream: classification.upstream, err };
}

/**
 * The default logger of the core: one JSON line on stderr for every 5xx, with the request ID and the
 * masked error; 4xx and 499 are not logged. The line is written to file descriptor 2 before the call
 * returns (Node.js, Bun, Deno): an exit, a `SIGTERM` or a crash right after never loses it. Without
 * `node:fs` (Workers, browsers), `console.error`.
 *
 * @example
 * ```ts
 * defineConventions({ onError: (report) => { metrics.count(report.classification.code); logToConsole(report); } });
 * ```
 */
export function logToConsole(report: ErrorReport): void {
  if (!isLogged(report)) return;
  writeLine(JSON.stringify(toLogEntry(report)));
}

/**
 * A logging hook that writes each 5xx once, as `logger.error(fields, message)`:
 * request ID, method, path, status, code, upstream and the full masked error
 * as `err` ({@link LogEntry}). The request ID is left out when the logger binds it
 * already (`LoggerLike.bindings`). 4xx and 499 are not logged. What every adapter's
 * default logging does with the logger it hands over.
 *
 * @example
 * ```ts
 * defineConventions({ onError: logWith(pino()) });
 * ```
 */
export function logWith(logger: LoggerLike): ErrorHook {
  return function logReport(report) {
    writeTo(logger, report);
  };
}

/** Where a report goes when the conventions name no hook: the adapter's logger, else the deprecated log function. */
interface AdapterLogging {
  readonly logger?: unknown;
  readonly log?: unknown;
}

/**
 * @internal Reports a rendered error: to the conventions' `onError` (nowhere when it is `false`),
 * else to the logger the adapter handed over, else (deprecated) to its log function, else as one
 * JSON line on stderr. Never throws: a logging hook must never break the response.
 */
export function report(entry: ErrorReport, onError: ErrorHook | false | undefined, { logger, log }: AdapterLogging): void {
  if (onError === false) return;
  try {
    if (onError !== undefined) settle(onError(entry));
    else if (isLogger(logger)) writeTo(logger, entry);
    else if (typeof log === 'function') settle((log as ErrorHook)(entry));
    else logToConsole(entry);
  } catch {
    // A logging hook must never break the response.
  }
}

/** @internal Hands a rendered problem to each observer of the conventions. Never throws. */
export function observe(observation: ProblemObservation, observers: readonly ProblemObserver[]): void {
  for (const observer of observers) {
    try {
      settle(observer(observation));
    } catch {
      // An observer must never break the response, nor keep the next one from seeing it.
    }
  }
}

/** What the default loggers write: each 5xx. A 4xx is the client's error; a 499 a client that left. */
function isLogged(report: ErrorReport): boolean {
  return report.classification.status >= 500;
}

function writeTo(logger: LoggerLike, report: ErrorReport): void {
  if (!isLogged(report) || isMuted(logger)) return;
  const { level: _level, msg, requestId, ...fields } = toLogEntry(report);
  logger.error(carriesId(logger, requestId) ? fields : { requestId, ...fields }, msg);
}

/**
 * Whether the logger already writes the request ID on each line, as one of its bindings. The bindings
 * are read rather than a label assumed: a logger that binds no ID (a `childLoggerFactory` of its own),
 * or another ID than the one answered (an invalid `request.id` the core replaced), still gets `requestId`.
 */
function carriesId(logger: LoggerLike, requestId: string): boolean {
  try {
    const { bindings } = logger;
    if (typeof bindings !== 'function') return false;
    const bound: unknown = bindings.call(logger);
    return typeof bound === 'object' && bound !== null && Object.values(bound).includes(requestId);
  } catch {
    return false;
  }
}

function isLogger(value: unknown): value is LoggerLike {
  return typeof value === 'object' && value !== null && typeof (value as LoggerLike).error === 'function';
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

/** A hook may return a promise: its rejection is swallowed like a throw. */
function settle(result: unknown): void {
  if (typeof result === 'object' && result !== null && typeof (result as Promise<void>).then === 'function') {
    (result as Promise<void>).then(undefined, ignore);
  }
}

function ignore(): void {}
