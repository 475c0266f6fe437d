/**
 * Development and log views of an error: everything useful to a developer,
 * with credentials masked (mask.ts). Never used for production response bodies.
 *
 * It reads what the classifier reads, the same way: the error graph of walk.ts, in its order, and
 * the upstream's status and URL through the shape readers of shapes/http-status.ts and
 * shapes/own-errors.ts. A client taught to the classifier is shown here too.
 */
import { BUDGET_SPENT, clip, MASK_BUDGET } from './mask.js';
import type { Budget } from './mask.js';
import { constructorName, keep } from './own.js';
import { upstreamAnswer, upstreamUrl } from './shapes/http-status.js';
import { declaredUpstreamRequestId, declaredUpstreamStatus } from './shapes/own-errors.js';
import { upstreamRequestId } from './hop.js';
import { MAX_CAUSES, walk } from './walk.js';

export { maskSecrets } from './mask.js';

/** One error of a chain, as development bodies show it (`debug`). */
export interface ErrorDescription {
  readonly name: string;
  readonly message: string;
  readonly code?: string | number | undefined;
  readonly stack?: readonly string[] | undefined;
  readonly upstream?:
    | {
        readonly status?: number | undefined;
        readonly url?: string | undefined;
        /** The upstream's own request ID, from its answer's headers: to find the failure in its logs. */
        readonly requestId?: string | undefined;
      }
    | undefined;
  /** The errors that caused this one, outermost first (depth-limited, cycle-safe). */
  readonly causes?: readonly ErrorDescription[] | undefined;
}

/**
 * An error as a log line shows it: the shape pino's standard `err` serializer gives an error, so pino,
 * Nest's `Logger` and a JSON line on stderr all print the same record. Masked like {@link ErrorDescription}.
 */
export interface LoggedError {
  /** The error's name, else its class's (`Error`, `TypeError`, `AbortError`, `UpstreamError`). */
  readonly type: string;
  /** Its message, then each cause's, joined by `': '` (as pino's `messageWithCauses`). */
  readonly message: string;
  /**
   * Its stack (the first line, then at most 20 frames), then each cause's after `\ncaused by: `
   * (as pino's `stackWithCauses`): one string. A value without a stack stands as `type: message`.
   */
  readonly stack: string;
  readonly code?: string | number | undefined;
  readonly upstream?: ErrorDescription['upstream'];
  /** The errors that caused this one, outermost first, without stacks: a root cause's `code` stays a field. */
  readonly causes?: readonly LoggedCause[] | undefined;
}

/** One cause of a {@link LoggedError}. */
export interface LoggedCause {
  readonly type: string;
  readonly message: string;
  readonly code?: string | number | undefined;
  readonly upstream?: ErrorDescription['upstream'];
}

const MAX_STACK_LINES = 20;

/**
 * Describes a thrown value and its cause chain for developers (a development body's `debug`):
 * name, message, code, stack lines and upstream status/URL, masked. Total: never throws.
 * Log lines use {@link describeForLog}.
 * Reads and masks at most a fixed number of characters per call, whatever was thrown.
 *
 * @example
 * ```ts
 * logger.error({ err: describeError(error), requestId });
 * ```
 */
export function describeError(error: unknown): ErrorDescription {
  const budget: Budget = { left: MASK_BUDGET };
  // The error, then what is behind it, outermost first, as the classifier reads it.
  const chain = walk(error, 1 + MAX_CAUSES);
  // Names, messages, codes and URLs of the whole chain come before any stack line: a long stack
  // at the top must not crowd out the cause that explains it.
  const heads = chain.map((value) => describeHead(value, budget));
  const [head, ...causes] = heads.map((part, index) => withStack(part, chain[index], budget));
  return causes.length === 0 ? head! : { ...head!, causes };
}

/**
 * Describes a thrown value and its cause chain for a log line ({@link LoggedError}): type, message and
 * stack of the whole chain, code, upstream, and each cause's type, message, code and upstream. Masked
 * with the same budget as {@link describeError}; total: never throws.
 *
 * It goes through pino's `err` serializer unchanged: pino names an error by its `constructor`, and this
 * object has none (an own, hidden `constructor: undefined`), so pino copies `type`; it has no `cause`
 * for pino to follow again. The same JSON leaves pino and `JSON.stringify`. Hand pino the object itself:
 * a copy (`{ ...err }`) has `Object` as its constructor, and pino would write `"type":"Object"`.
 *
 * @example
 * ```ts
 * logger.error({ err: describeForLog(error), requestId }, 'GET /orders failed');
 * ```
 */
export function describeForLog(error: unknown): LoggedError {
  const budget: Budget = { left: MASK_BUDGET };
  const chain = walk(error, 1 + MAX_CAUSES);
  // As in describeError: the texts of the whole chain before any stack line.
  const heads = chain.map((value) => describeHead(value, budget));
  const stacks = heads.map((head, index) => stackText(head, chain[index], budget));
  const [head, ...causes] = heads as [Head, ...Head[]];
  // The members in the order pino's serializer writes them: type, message, stack, then the others.
  const { type, code, upstream } = loggedCause(head);
  const logged: Logged = { type, message: heads.map(({ message }) => message).join(': '), stack: stacks.join('\ncaused by: ') };
  if (code !== undefined) logged.code = code;
  if (upstream !== undefined) logged.upstream = upstream;
  if (causes.length > 0) logged.causes = causes.map(loggedCause);
  // pino sets `type` from `err.constructor.name` when `constructor` is a function: hide Object's.
  return Object.defineProperty(logged, 'constructor', { value: undefined });
}

/** A `LoggedCause` while it is built. */
interface Cause {
  type: string;
  message: string;
  code?: string | number;
  upstream?: Upstream;
}

/** A `LoggedError` while it is built. */
interface Logged extends Cause {
  stack: string;
  causes?: Cause[];
}

function loggedCause({ name, message, code, upstream }: Head): Cause {
  const cause: Cause = { type: name, message };
  if (code !== undefined) cause.code = code;
  if (upstream !== undefined) cause.upstream = upstream;
  return cause;
}

/**
 * Stacks shown before, by their text, with the budget each took: errors thrown at one place have one
 * stack, so a service under a failing upstream masks it once. Only a stack that showed as it is (nothing
 * masked, nothing cut) is kept, so the map never holds a secret. Bounded by the characters it keeps.
 */
const SHOWN = new Map<string, number>();
const MAX_SHOWN_CHARS = 1 << 20;
let shownChars = 0;

/** The value's stack as it reads (its first line and frames, masked), else `type: message` as an error's first line. */
function stackText({ name, message }: Head, value: unknown, budget: Budget): string {
  const stack = typeof value === 'object' && value !== null ? read(value as Record<string, unknown>, 'stack') : undefined;
  if (typeof stack !== 'string' || stack.length === 0) return message === '' ? name : `${name}: ${message}`;
  const cost = SHOWN.get(stack);
  // Shown whole within the budget then, the same now: every line fits what is left, with some to spare.
  if (cost !== undefined && budget.left > cost) {
    budget.left -= cost;
    return stack;
  }
  const left = budget.left;
  const lines: string[] = [];
  for (const line of stack.split('\n', MAX_STACK_LINES + 1)) {
    if (budget.left <= 0) {
      lines.push(BUDGET_SPENT);
      break;
    }
    lines.push(clip(line, budget));
  }
  const text = lines.join('\n');
  if (text === stack) remember(stack, left - budget.left);
  return text;
}

function remember(stack: string, cost: number): void {
  if (shownChars + stack.length > MAX_SHOWN_CHARS) {
    SHOWN.clear();
    shownChars = 0;
  }
  if (stack.length > MAX_SHOWN_CHARS) return;
  SHOWN.set(stack, cost);
  shownChars += stack.length;
}

/** An `ErrorDescription` while it is built. */
interface Description {
  name: string;
  message: string;
  code?: string | number;
  stack?: string[];
  upstream?: Upstream;
}

interface Upstream {
  status?: number;
  url?: string;
  requestId?: string;
}

type Head = Omit<Description, 'stack'>;

function describeHead(value: unknown, budget: Budget): Head {
  if (typeof value !== 'object' || value === null) {
    return { name: value === null ? 'null' : typeof value, message: clip(safeString(value), budget) };
  }
  const record = value as Record<string, unknown>;
  const name = read(record, 'name');
  const message = read(record, 'message');
  const code = read(record, 'code');
  const head: Head = {
    name: typeof name === 'string' ? clip(name, budget) : className(record, budget),
    message: typeof message === 'string' ? clip(message, budget) : message === undefined ? '' : clip(safeString(message), budget),
  };
  if (typeof code === 'string' || typeof code === 'number') head.code = typeof code === 'string' ? clip(code, budget) : code;
  const upstream = upstreamOf(record, code, budget);
  if (upstream !== undefined) head.upstream = upstream;
  return head;
}

/** The description in the order its members are shown: name, message, code, stack, upstream. */
function withStack({ name, message, code, upstream }: Head, value: unknown, budget: Budget): ErrorDescription {
  const description: Description = { name, message };
  if (code !== undefined) description.code = code;
  const stack = typeof value === 'object' && value !== null ? read(value as Record<string, unknown>, 'stack') : undefined;
  if (typeof stack === 'string') {
    const lines: string[] = [];
    for (const line of stack.split('\n', MAX_STACK_LINES + 1).slice(1)) {
      if (budget.left <= 0) {
        lines.push(BUDGET_SPENT);
        break;
      }
      lines.push(clip(line.trim(), budget));
    }
    description.stack = lines;
  }
  if (upstream !== undefined) description.upstream = upstream;
  return description;
}

/**
 * The upstream's status and URL, read as the classifier reads them: the status this library's
 * errors declare, else the one an HTTP client or API SDK reports; the URL an HTTP client called.
 */
function upstreamOf(record: Record<string, unknown>, code: unknown, budget: Budget): Upstream | undefined {
  const result: Upstream = {};
  try {
    const declared = declaredUpstreamStatus(record);
    // The code as the classifier reads it: the error's own, not one a polluted prototype holds.
    const answer = declared === undefined ? upstreamAnswer(record, keep(record, 'code', code)) : undefined;
    const status = declared ?? answer?.status;
    if (status !== undefined) result.status = status;
    const requestId = declaredUpstreamRequestId(record) ?? upstreamRequestId(answer?.headers);
    if (requestId !== undefined) result.requestId = clip(requestId, budget);
  } catch {
    // A getter or Proxy trap threw: no status.
  }
  try {
    const url = upstreamUrl(record);
    if (typeof url === 'string') result.url = clip(url, budget);
  } catch {
    // No URL.
  }
  return result.status === undefined && result.url === undefined && result.requestId === undefined ? undefined : result;
}

function read(record: Record<string, unknown>, key: string): unknown {
  try {
    return record[key];
  } catch {
    return undefined;
  }
}

function className(record: object, budget: Budget): string {
  try {
    const name = constructorName(record);
    return name !== undefined && name.length > 0 ? clip(name, budget) : 'Object';
  } catch {
    return 'Object';
  }
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'symbol' ? value.toString() : String(value);
  } catch {
    return '[unprintable]';
  }
}
