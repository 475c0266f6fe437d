import { readHeader } from './headers.js';
import type { HeadersLike } from './headers.js';

/** The default pattern: 1–200 letters, digits and `- _ . : = + /` (UUIDs, ULIDs, CloudFront, Heroku and ALB IDs). */
export const DEFAULT_REQUEST_ID_PATTERN: RegExp = /^[A-Za-z0-9\-_.:=+/]{1,200}$/;

/** Whatever the pattern says, a request ID is visible ASCII: nothing that could split a header. */
const HEADER_SAFE = /^[\x21-\x7e]{1,1024}$/;

/** Options of {@link resolveRequestId}. */
export interface RequestIdOptions {
  /** Name of the header that carries the ID, in any case. Default `x-request-id`. */
  readonly requestIdHeader?: string | undefined;
  /** Accept an incoming ID that matches the pattern. Default `true`; `false` always generates. */
  readonly trustIncomingRequestId?: boolean | undefined;
  /** What an incoming ID must match. Default {@link DEFAULT_REQUEST_ID_PATTERN}. */
  readonly requestIdPattern?: RegExp | undefined;
  /** Makes a new ID. Default: a random UUID (version 4), as `crypto.randomUUID()` makes. */
  readonly generateRequestId?: (() => string) | undefined;
}

/**
 * Returns the incoming request ID when it is safe to echo, or a new one.
 * `Conventions` from `defineConventions` are valid options as they are.
 * Arrays (a repeated header), empty values, CR, LF, spaces, control and
 * non-ASCII characters never pass.
 *
 * @example
 * ```ts
 * const id = resolveRequestId(req.headers); // 'b1c2…' from X-Request-Id, or a fresh UUID
 * ```
 */
export function resolveRequestId(headers: HeadersLike | null | undefined, options?: RequestIdOptions): string {
  if (options?.trustIncomingRequestId !== false) {
    const name = options?.requestIdHeader;
    // Node.js and Web headers hold names in lower case; `defineConventions` already lowered it.
    const incoming = readHeader(headers, typeof name === 'string' ? name.toLowerCase() : 'x-request-id');
    if (typeof incoming === 'string' && isValidRequestId(incoming, options?.requestIdPattern)) return incoming;
  }
  return generateRequestId(options?.generateRequestId, options?.requestIdPattern);
}

/**
 * Whether a value may be used as a request ID as it is.
 *
 * @example
 * ```ts
 * isValidRequestId('abc\r\nSet-Cookie: x'); // false
 * ```
 */
export function isValidRequestId(value: unknown, pattern: RegExp = DEFAULT_REQUEST_ID_PATTERN): value is string {
  if (typeof value !== 'string' || !HEADER_SAFE.test(value)) return false;
  try {
    return testOnce(pattern, value);
  } catch {
    // A pattern whose `exec` throws (a subclass, a Proxy): nothing passes it.
    return false;
  }
}

/** Copies of global or sticky patterns, whose `test` would read and write the caller's `lastIndex`. */
const STATELESS = new WeakMap<RegExp, RegExp>();

/**
 * `pattern.test(value)` without touching the caller's RegExp: a frozen pattern stays usable, and a
 * global or sticky one is tested through a copy without those flags.
 */
function testOnce(pattern: RegExp, value: string): boolean {
  if (!pattern.global && !pattern.sticky) return pattern.test(value);
  let copy = STATELESS.get(pattern);
  if (copy === undefined) {
    copy = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    STATELESS.set(pattern, copy);
  }
  return copy.test(value);
}

function generateRequestId(generate: (() => string) | undefined, pattern: RegExp | undefined): string {
  if (generate !== undefined) {
    try {
      const id = generate();
      if (isValidRequestId(id, pattern)) return id;
    } catch {
      // A broken generator must not break the response; fall back to a UUID.
    }
  }
  return randomUuid();
}

/** Random bytes for 256 IDs, drawn at once: one call to the system's generator per 256 requests. */
const POOL = new Uint8Array(16 * 256);
let drawn = POOL.length;

/** The character codes of each byte's two hex digits. */
const HEX = new Uint8Array(512);
for (let byte = 0; byte < 256; byte++) {
  HEX[2 * byte] = (byte >> 4).toString(16).charCodeAt(0);
  HEX[2 * byte + 1] = (byte & 15).toString(16).charCodeAt(0);
}

/** Where each byte's digits go in `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/** The ID being written, as character codes; the dashes stay in place. */
const CODES: number[] = Array.from({ length: 36 }, () => 45);

/**
 * @internal A random UUID (version 4, RFC 9562), like `crypto.randomUUID()`, from the same
 * cryptographic generator. It is made as one flat string: `randomUUID()` answers 20 joined pieces,
 * which the engine copies into one the first time the ID is read (by the header it goes into, by
 * the body), and that copy costs more than the UUID itself.
 */
export function randomUuid(): string {
  if (drawn === POOL.length) {
    crypto.getRandomValues(POOL);
    drawn = 0;
  }
  const from = drawn;
  drawn += 16;
  for (let i = 0; i < 16; i++) {
    let byte = POOL[from + i]!;
    if (i === 6) byte = (byte & 0x0f) | 0x40;
    else if (i === 8) byte = (byte & 0x3f) | 0x80;
    const at = AT[i]!;
    CODES[at] = HEX[2 * byte]!;
    CODES[at + 1] = HEX[2 * byte + 1]!;
  }
  return String.fromCharCode.apply(null, CODES);
}
