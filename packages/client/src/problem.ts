/**
 * Reading an RFC 9457 problem from what a client received: a fetch `Response`, or the error of ky,
 * axios or got. Tolerant as the RFC asks (§3.1): a standard member of the wrong type is dropped, a
 * missing `type` is `about:blank`, extensions are kept. Never throws, never consumes a body the
 * caller still needs, and reads at most {@link MAX_PROBLEM_BYTES}.
 */

/** The standard members of a problem (RFC 9457 §3.1). */
export interface ProblemDetails {
  /** A URI reference identifying the problem type; `about:blank` when the body had none. */
  readonly type: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly instance?: string;
}

/** The extension members a gateway-errors server writes, as they may arrive: unchecked. */
export interface GatewayProblemExtensions {
  readonly code?: unknown;
  readonly requestId?: unknown;
  readonly traceId?: unknown;
  /** Whether the same request may be sent again: read as a verdict only when a boolean. */
  readonly retryable?: unknown;
  readonly retryAfter?: unknown;
  readonly proxyStatus?: unknown;
  readonly upstream?: unknown;
}

/** A problem: the standard members, checked, and the extensions, as received. */
export type Problem<TExtensions extends object = GatewayProblemExtensions> = ProblemDetails & TExtensions & { readonly [member: string]: unknown };

/** The longest problem body read: a problem is small, and a body without end must not be read to its end. */
export const MAX_PROBLEM_BYTES = 65_536;

const PROBLEM_TYPE = /^application\/problem\+json\s*(?:;|$)/i;
const STANDARD: Readonly<Record<keyof ProblemDetails, 'string' | 'number'>> = {
  type: 'string',
  title: 'string',
  status: 'number',
  detail: 'string',
  instance: 'string',
};

/** Whether a `Content-Type` names `application/problem+json`, in any case, with any parameters. */
export function isProblemType(contentType: unknown): boolean {
  return typeof contentType === 'string' && contentType.length <= 1024 && PROBLEM_TYPE.test(contentType.trimStart());
}

/**
 * The problem a body holds, when its `Content-Type` says it is one: from its text, its bytes, or
 * the object a client already parsed it into. `undefined` for anything else, never a throw.
 */
export function problemFromBody<TExtensions extends object = GatewayProblemExtensions>(contentType: unknown, body: unknown): Problem<TExtensions> | undefined {
  if (!isProblemType(contentType)) return undefined;
  try {
    let value: unknown = body;
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) value = decode(body);
    if (typeof value === 'string') {
      if (value.length > MAX_PROBLEM_BYTES) return undefined;
      value = JSON.parse(value) as unknown;
    }
    return normalize<TExtensions>(value);
  } catch {
    return undefined;
  }
}

/**
 * The problem a client received, or `undefined` when the answer is not one. Takes a fetch
 * `Response` (its body is read from a clone: the caller can still read it), or the error object of
 * ky (v1: `error.response`; v2: the body already read into `error.data`), axios
 * (`error.response.data`) or got (`error.response.body`).
 *
 * @example
 * ```ts
 * const response = await fetch(url);
 * const problem = await parseProblem(response);
 * if (problem?.code === 'UPSTREAM_TIMEOUT') showRetryLater(problem.retryAfter);
 * ```
 */
export async function parseProblem<TExtensions extends object = GatewayProblemExtensions>(input: unknown): Promise<Problem<TExtensions> | undefined> {
  try {
    if (isResponse(input)) return await fromResponse<TExtensions>(input);
    if (typeof input !== 'object' || input === null) return undefined;
    const record = input as Record<string, unknown>;
    const response = record['response'];
    // ky 2 read the body already: its parsed value is `data`.
    if ('data' in record && isResponse(response)) return problemFromBody<TExtensions>(response.headers.get('content-type'), record['data']);
    if (isResponse(response)) return await fromResponse<TExtensions>(response);
    if (typeof response !== 'object' || response === null) return undefined;
    const answer = response as Record<string, unknown>;
    const contentType = headerOf(answer['headers'], 'content-type');
    // axios: `data`, parsed or not; got: `body`, text or bytes.
    return problemFromBody<TExtensions>(contentType, 'data' in answer ? answer['data'] : answer['body']);
  } catch {
    return undefined;
  }
}

interface ResponseLike {
  readonly headers: { get(name: string): string | null };
  readonly bodyUsed: boolean;
  clone(): ResponseLike;
  readonly body: ReadableStream<Uint8Array> | null;
}

function isResponse(value: unknown): value is ResponseLike {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<ResponseLike>;
  return typeof candidate.clone === 'function' && typeof candidate.headers?.get === 'function';
}

async function fromResponse<TExtensions extends object>(response: ResponseLike): Promise<Problem<TExtensions> | undefined> {
  const contentType = response.headers.get('content-type');
  if (!isProblemType(contentType) || response.bodyUsed) return undefined;
  const text = await readCapped(response.clone().body);
  return text === undefined ? undefined : problemFromBody<TExtensions>(contentType, text);
}

/** The text of a body of at most {@link MAX_PROBLEM_BYTES}; `undefined` for a longer one, which is cancelled. */
async function readCapped(body: ReadableStream<Uint8Array> | null): Promise<string | undefined> {
  if (body === null) return undefined;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_PROBLEM_BYTES) {
        // Not awaited: cancelling one branch of a cloned body settles only once the other branch is cancelled too.
        reader.cancel().catch(ignore);
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return decode(bytes);
}

function decode(bytes: ArrayBuffer | ArrayBufferView): string | undefined {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.byteLength > MAX_PROBLEM_BYTES ? undefined : new TextDecoder().decode(view);
}

/** A header of a plain record (got, axios 0.x), an `AxiosHeaders` or a `Headers`. */
function headerOf(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const get = (headers as { get?: unknown }).get;
  const value: unknown = typeof get === 'function' ? (get as (key: string) => unknown).call(headers, name) : findHeader(headers as Record<string, unknown>, name);
  return typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
}

function findHeader(headers: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(headers, name)) return headers[name];
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return headers[key];
  return undefined;
}

/** The members of a parsed body: standard ones of the right type, `type` defaulted, extensions as they are. */
function normalize<TExtensions extends object>(value: unknown): Problem<TExtensions> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const problem: Record<string, unknown> = { type: 'about:blank' };
  for (const key of Object.keys(value)) {
    // An own `__proto__` key of parsed JSON must stay data, never become a prototype.
    if (key === '__proto__') continue;
    const member: unknown = (value as Record<string, unknown>)[key];
    // Own members only: an extension named `toString` or `constructor` is an extension, not a standard member.
    const expected = Object.hasOwn(STANDARD, key) ? (STANDARD as Record<string, string>)[key] : undefined;
    if (expected === undefined) problem[key] = member;
    else if (typeof member === expected && (expected !== 'number' || Number.isInteger(member))) problem[key] = member;
  }
  return problem as Problem<TExtensions>;
}

function ignore(): void {}
