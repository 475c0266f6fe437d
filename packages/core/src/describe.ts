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
import { constructorName } from './own.js';
import { upstreamAnswer, upstreamUrl } from './shapes/http-status.js';
import { declaredUpstreamRequestId, declaredUpstreamStatus } from './shapes/own-errors.js';
import { upstreamRequestId } from './hop.js';
import { MAX_CAUSES, walk } from './walk.js';

export { maskSecrets } from './mask.js';

/** One error of a chain, as development bodies and log lines show it. */
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

const MAX_STACK_LINES = 20;

/**
 * Describes a thrown value and its cause chain for developers and logs:
 * name, message, code, stack lines and upstream status/URL, masked. Total: never throws.
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
    const answer = declared === undefined ? upstreamAnswer(record, code) : undefined;
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
