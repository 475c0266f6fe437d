/**
 * Development and log views of an error: everything useful to a developer,
 * with credentials masked. Never used for production response bodies.
 */

/** One error of a chain, as development bodies and log lines show it. */
export interface ErrorDescription {
  readonly name: string;
  readonly message: string;
  readonly code?: string | number | undefined;
  readonly stack?: readonly string[] | undefined;
  readonly upstream?: { readonly status?: number | undefined; readonly url?: string | undefined } | undefined;
  /** The errors that caused this one, outermost first (depth-limited, cycle-safe). */
  readonly causes?: readonly ErrorDescription[] | undefined;
}

const MAX_CAUSES = 8;
const MAX_STACK_LINES = 20;
const MAX_TEXT = 2000;
const TRAILING_URL = /[a-z][a-z0-9+.-]*:\/\/\S*$/i;
const MASK = '***';

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;
const SECRET_NAME = String.raw`[\w.-]*?(?:token|secret|passw(?:or)?d|pwd|pass|api[_-]?key|apikey|access[_-]?key|private[_-]?key|signature|sig|auth|session|credential|jwt|code)[\w.-]*`;
const SECRET_QUERY = new RegExp(String.raw`([?&;]${SECRET_NAME}=)[^&#\s"'<>]*`, 'gi');
// The key may carry a prefix: access_token, DB_PASSWORD, x-api-key.
const SECRET_PAIR = new RegExp(String.raw`(?<![\w.-])([\w.-]*?(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret)["']?\s*[=:]\s*["']?)[^\s"'&,;}]+`, 'gi');
const AUTH_SCHEME = /\b(Bearer|Basic|Digest|Token|Negotiate)\s+[A-Za-z0-9\-._~+/=]+/g;
/**
 * Every text the masks below could change contains one of these: one test spares the five
 * replacements for the usual stack line or message, which holds no secret at all.
 */
const MAYBE_SECRET = /@|p(?:ass|wd)|s(?:ecret|ig|ession)|token|key|auth|c(?:redential|ode|ookie)|jwt|b(?:earer|asic)|digest|negotiate/i;
const SECRET_HEADER = /\b((?:proxy-)?authorization|cookie|set-cookie|x-api-key|api-key|x-auth-token)(["']?\s*[:=]\s*["']?)[^"'\r\n}]+/gi;

/**
 * Masks credentials in free text: URL user-info, secret-looking query
 * parameters and `key=value` pairs, `Authorization`/`Cookie` values and
 * bearer tokens.
 *
 * @example
 * ```ts
 * maskSecrets('GET https://bob:pw@api.test/x?token=abc'); // 'GET https://***@api.test/x?token=***'
 * ```
 */
export function maskSecrets(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  // Values first, header values last: a header's mask runs to the end of its line and would
  // swallow the key of a later `password='…'` while leaving its value behind.
  return text
    .replace(URL_USERINFO, `$1${MASK}@`)
    .replace(AUTH_SCHEME, `$1 ${MASK}`)
    .replace(SECRET_QUERY, `$1${MASK}`)
    .replace(SECRET_PAIR, `$1${MASK}`)
    .replace(SECRET_HEADER, `$1$2${MASK}`);
}

/**
 * Describes a thrown value and its cause chain for developers and logs:
 * name, message, code, stack lines and upstream status/URL, masked. Total: never throws.
 *
 * @example
 * ```ts
 * logger.error({ err: describeError(error), requestId });
 * ```
 */
export function describeError(error: unknown): ErrorDescription {
  const seen: unknown[] = [];
  const head = describeOne(error, seen);
  const causes: ErrorDescription[] = [];
  let node = nextCause(error);
  while (node !== undefined && causes.length < MAX_CAUSES && !seen.includes(node)) {
    causes.push(describeOne(node, seen));
    const errors = aggregated(node);
    for (const inner of errors) {
      if (causes.length >= MAX_CAUSES || seen.includes(inner)) continue;
      causes.push(describeOne(inner, seen));
    }
    node = nextCause(node);
  }
  for (const inner of aggregated(error)) {
    if (causes.length >= MAX_CAUSES || seen.includes(inner)) continue;
    causes.push(describeOne(inner, seen));
  }
  return causes.length === 0 ? head : { ...head, causes };
}

function describeOne(value: unknown, seen: unknown[]): ErrorDescription {
  seen.push(value);
  if (typeof value !== 'object' || value === null) {
    return { name: value === null ? 'null' : typeof value, message: clip(safeString(value)) };
  }
  const record = value as Record<string, unknown>;
  const name = read(record, 'name');
  const message = read(record, 'message');
  const code = read(record, 'code');
  const stack = read(record, 'stack');
  const description: {
    name: string;
    message: string;
    code?: string | number;
    stack?: string[];
    upstream?: { status?: number; url?: string };
  } = {
    name: typeof name === 'string' ? clip(name) : constructorName(record),
    message: typeof message === 'string' ? clip(message) : message === undefined ? '' : clip(safeString(message)),
  };
  if (typeof code === 'string' || typeof code === 'number') description.code = typeof code === 'string' ? clip(code) : code;
  if (typeof stack === 'string') {
    // One test of the whole stack decides whether its lines need masking at all.
    const mask = MAYBE_SECRET.test(stack);
    description.stack = stack
      .split('\n', MAX_STACK_LINES + 1)
      .slice(1)
      .map((line) => clip(line.trim(), mask));
  }
  const upstream = upstreamOf(record);
  if (upstream !== undefined) description.upstream = upstream;
  return description;
}

/** Status and URL from this library's errors, axios, got, ky and undici. */
function upstreamOf(record: Record<string, unknown>): { status?: number; url?: string } | undefined {
  let status = read(record, 'upstreamStatus');
  let url = read(record, 'url');
  const response = read(record, 'response');
  if (typeof response === 'object' && response !== null && typeof read(record, 'getResponse') !== 'function') {
    const res = response as Record<string, unknown>;
    status ??= read(res, 'status') ?? read(res, 'statusCode');
    url ??= read(res, 'url');
  }
  if (read(record, 'code') === 'UND_ERR_RESPONSE_STATUS_CODE') status ??= read(record, 'statusCode');
  const config = read(record, 'config');
  if (url === undefined && typeof config === 'object' && config !== null) {
    const base = read(config as Record<string, unknown>, 'baseURL');
    const path = read(config as Record<string, unknown>, 'url');
    if (typeof path === 'string') url = typeof base === 'string' && !/^[a-z]+:/i.test(path) ? base + path : path;
  }
  const options = read(record, 'options');
  if (url === undefined && typeof options === 'object' && options !== null) url = read(options as Record<string, unknown>, 'url');
  const request = read(record, 'request');
  if (url === undefined && typeof request === 'object' && request !== null) url = read(request as Record<string, unknown>, 'url');
  const result: { status?: number; url?: string } = {};
  if (typeof status === 'number') result.status = status;
  const href = typeof url === 'object' && url !== null ? read(url as Record<string, unknown>, 'href') : url;
  if (typeof href === 'string') result.url = clip(href);
  return result.status === undefined && result.url === undefined ? undefined : result;
}

function nextCause(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  const cause = read(value as Record<string, unknown>, 'cause');
  return cause === null ? undefined : cause;
}

function aggregated(value: unknown): unknown[] {
  if (typeof value !== 'object' || value === null) return [];
  const errors = read(value as Record<string, unknown>, 'errors');
  if (read(value as Record<string, unknown>, 'name') !== 'AggregateError') return [];
  try {
    // A revoked Proxy throws even on Array.isArray.
    return Array.isArray(errors) ? errors.slice(0, MAX_CAUSES) : [];
  } catch {
    return [];
  }
}

function read(record: Record<string, unknown>, key: string): unknown {
  try {
    return record[key];
  } catch {
    return undefined;
  }
}

function constructorName(record: object): string {
  try {
    const name = (Object.getPrototypeOf(record) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return typeof name === 'string' && name.length > 0 ? clip(name) : 'Object';
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

function clip(text: string, mask = true): string {
  // A URL cut short may have lost the `@` that marks its user-info as such: drop the fragment.
  const cut = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT).replace(TRAILING_URL, '') : text;
  const masked = mask ? maskSecrets(cut) : cut;
  return masked.length > MAX_TEXT ? `${masked.slice(0, MAX_TEXT)}…` : masked;
}
