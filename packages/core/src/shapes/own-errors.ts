/**
 * Errors meant as an answer of this service rather than a failure of something behind it: this
 * library's own `UpstreamError` family (recognised by brand, never `instanceof`), and the errors of
 * http-errors, body-parser, Boom, NestJS (`HttpException` and the ValidationPipe), Hono
 * (`HTTPException`) and Fastify (schema validation) that carry the status the application chose.
 *
 * A new framework's error class: teach {@link ownStatus} where its status and message live, and mark
 * it as an own answer in http-status.ts (`isOwnAnswer`) if it could look like an API SDK's error.
 */
import type { ProblemFieldError } from '../classification.js';
import { CODE_INFO, codeForStatus } from '../codes.js';
import { BRAND } from '../errors.js';
import { readSingleHeader } from '../headers.js';
import type { HeadersLike } from '../headers.js';
import { field, keep } from '../own.js';
import { BAD, isErrorStatus, isHttpStatus, isUpstreamStatus, LOST, STATUS, TIMEOUT, TLS, truncate, UNAVAILABLE, UNREACHABLE } from '../signals.js';
import type { Signal } from '../signals.js';

const MAX_POINTER = 500;
const MAX_UPSTREAM = 100;
const MAX_FIELD_ERRORS = 100;
const PRINTABLE = /^[\x20-\x7e]*$/;

/** @internal This library's `UpstreamError` and subclasses. The brand is a global symbol: trusted only with a status the classes can carry. */
export function brandedUpstreamError(node: Record<string, unknown>): Signal | undefined {
  if (keep(node, BRAND, (node as { [BRAND]?: unknown })[BRAND]) !== true) return undefined;
  const status = keep(node, 'status', node['status']);
  return isUpstreamStatus(status) ? fromUpstreamError(node, status) : undefined;
}

/** @internal The status an error declares its upstream answered (`upstreamStatus`, as this library's errors keep it). */
export function declaredUpstreamStatus(node: Record<string, unknown>): number | undefined {
  const declared = keep(node, 'upstreamStatus', node['upstreamStatus']);
  return isHttpStatus(declared) ? declared : undefined;
}

/** @internal The upstream's own request ID an error of this library (or a look-alike) carries: printable, at most 200 characters. */
export function declaredUpstreamRequestId(node: Record<string, unknown>): string | undefined {
  const id = keep(node, 'upstreamRequestId', node['upstreamRequestId']);
  return typeof id === 'string' && /^[\x21-\x7e]{1,200}$/.test(id) ? id : undefined;
}

/** Each field of the error read once: a getter may answer differently on a second read. */
function fromUpstreamError(node: Record<string, unknown>, status: 502 | 503 | 504): Signal {
  const explicit = keep(node, 'code', node['code']);
  const upstreamStatus = declaredUpstreamStatus(node);
  const detail = keep(node, 'detail', node['detail']);
  const code =
    typeof explicit === 'string' && Object.hasOwn(EXPLICIT_DEFAULTS, explicit) && CODE_INFO[explicit]!.status === status
      ? explicit
      : status === 502 ? (upstreamStatus === undefined ? BAD : STATUS) : status === 503 ? UNAVAILABLE : TIMEOUT;
  const defaults = EXPLICIT_DEFAULTS[code];
  return {
    status,
    code,
    // The upstream answered: Proxy-Status says what it answered (received-status), not a proxy error.
    proxyError: upstreamStatus !== undefined ? undefined : defaults?.proxyError,
    reached: upstreamStatus !== undefined ? true : defaults?.reached,
    upstreamStatus,
    retryAfter: keep(node, 'retryAfter', node['retryAfter']),
    // A deeper error of the same status may say why: a refused connection, a connect timeout.
    refinable: upstreamStatus === undefined,
    explicitCode: status === 502 && code === explicit,
    detail: typeof detail === 'string' ? truncate(detail) : undefined,
  };
}

/** What an application's error of a given code means when nothing deeper says more. */
const EXPLICIT_DEFAULTS: Readonly<Record<string, Pick<Signal, 'proxyError' | 'reached'>>> = {
  [UNREACHABLE]: { proxyError: 'destination_unavailable', reached: false },
  [LOST]: { proxyError: 'connection_terminated', reached: true },
  [TLS]: { proxyError: 'tls_protocol_error', reached: false },
  [BAD]: { proxyError: 'http_protocol_error', reached: true },
  [STATUS]: { proxyError: undefined, reached: true },
  [TIMEOUT]: { proxyError: 'http_response_timeout', reached: true },
  [UNAVAILABLE]: { proxyError: 'destination_unavailable', reached: undefined },
};

/**
 * @internal Errors meant as this service's own response: http-errors, Boom, NestJS, Hono, Fastify,
 * body-parser. A 4xx is kept only when it is the thrown value itself (`root`): the error the
 * application threw, or the one a framework hands over as the application's own. A 4xx found by
 * walking `cause` or `AggregateError.errors` belongs to some other exchange (a lookup inside a failed
 * step, one of many attempts) and its message was never meant for this client: it decides nothing.
 */
export function ownStatus(node: Record<string, unknown>, root: boolean): Signal | undefined {
  let status: unknown;
  let detail: unknown;
  let errors: ProblemFieldError[] | undefined;
  const output = keep(node, 'isBoom', node['isBoom']) === true ? keep(node, 'output', node['output']) : undefined;
  const getStatus = output === undefined ? keep(node, 'getStatus', node['getStatus']) : undefined;
  const getResponse = typeof getStatus === 'function' ? keep(node, 'getResponse', node['getResponse']) : undefined;
  if (typeof output === 'object' && output !== null) {
    status = field(output, 'statusCode');
    const payload = field(output, 'payload');
    detail = typeof payload === 'object' && payload !== null ? field(payload, 'message') : undefined;
  } else if (typeof getStatus === 'function' && typeof getResponse === 'function') {
    status = (getStatus as () => unknown).call(node);
    if (!root && isErrorStatus(status) && status < 500) return undefined;
    const response = (getResponse as () => unknown).call(node);
    if (typeof response === 'string') detail = response;
    else if (typeof response === 'object' && response !== null) {
      const message = field(response, 'message');
      if (Array.isArray(message)) {
        // The ValidationPipe's messages: each becomes a field error, and together they are the detail.
        errors = toFieldErrors(message);
        detail = errors.map((error) => error.detail).join('; ');
      } else detail = message;
    }
  } else {
    const own = keep(node, 'status', node['status']);
    status = typeof own === 'number' ? own : keep(node, 'statusCode', node['statusCode']);
  }
  if (!isErrorStatus(status)) return undefined;
  if (status >= 500) {
    if (status === 502 || status === 503 || status === 504) {
      return { ...fromUpstreamError({}, status), retryAfter: readSingleHeader(keep(node, 'headers', node['headers']) as HeadersLike, 'retry-after') };
    }
    return status === 500 ? { status, code: 'INTERNAL_ERROR', proxyError: 'proxy_internal_error', weak: true } : { status, code: codeForStatus(status) };
  }
  if (!root) return undefined;
  const expose = keep(node, 'expose', node['expose']) !== false;
  if (expose && typeof getStatus !== 'function' && output === undefined) {
    detail = keep(node, 'message', node['message']);
    const validation = keep(node, 'validation', node['validation']);
    if (Array.isArray(validation)) errors = fastifyValidation(validation, keep(node, 'validationContext', node['validationContext']));
    else {
      const list = keep(node, 'errors', node['errors']);
      if (Array.isArray(list)) errors = fieldErrors(list);
    }
  }
  return {
    status,
    code: codeForStatus(status),
    expose,
    detail: expose && typeof detail === 'string' && detail.length > 0 ? truncate(detail) : undefined,
    // `expose: false` keeps the whole of the error private, its field errors too.
    errors: expose ? errors : undefined,
    retryAfter: status === 429 ? readSingleHeader(keep(node, 'headers', node['headers']) as HeadersLike, 'retry-after') : undefined,
  };
}

function fastifyValidation(validation: unknown[], context: unknown): ProblemFieldError[] {
  const errors: ProblemFieldError[] = [];
  const where = typeof context === 'string' ? truncate(context, MAX_POINTER) : 'body';
  for (const item of validation.slice(0, MAX_FIELD_ERRORS)) {
    if (typeof item !== 'object' || item === null) continue;
    const instancePath = field(item, 'instancePath');
    const text = field(item, 'message');
    // The instance path names a member of the request: an attacker chooses its length.
    const path = typeof instancePath === 'string' ? truncate(instancePath, MAX_POINTER) : '';
    const message = typeof text === 'string' ? text : 'is invalid';
    errors.push(
      where === 'body'
        ? { pointer: `#${path}`, detail: truncate(`${path === '' ? 'body' : path.slice(1)} ${message}`) }
        : { detail: truncate(`${where}${path} ${message}`) },
    );
  }
  return errors;
}

/** @internal `errors: [{ pointer?, detail }]` (or `{ path, message }`) on an application's own 4xx or a mapper's result. */
export function fieldErrors(items: readonly unknown[]): ProblemFieldError[] {
  const errors: ProblemFieldError[] = [];
  const count = Math.min(items.length, MAX_FIELD_ERRORS);
  for (let i = 0; i < count; i++) {
    const item = items[i];
    if (typeof item !== 'object' || item === null) continue;
    const own = field(item, 'detail');
    const detail = typeof own === 'string' ? own : field(item, 'message');
    if (typeof detail !== 'string') continue;
    const explicit = field(item, 'pointer');
    const path = explicit === undefined ? field(item, 'path') : undefined;
    const pointer = typeof explicit === 'string' ? explicit : Array.isArray(path) ? pointerOf(path) : undefined;
    errors.push(pointer === undefined ? { detail: truncate(detail) } : { pointer: truncate(pointer, MAX_POINTER), detail: truncate(detail) });
  }
  return errors;
}

/** A JSON Pointer fragment from path segments, bounded before it is built. */
function pointerOf(path: readonly unknown[]): string {
  let pointer = '#';
  for (let i = 0; i < path.length && pointer.length <= MAX_POINTER; i++) {
    const part = path[i];
    const text = typeof part === 'string' ? part.slice(0, MAX_POINTER) : typeof part === 'number' ? String(part) : '';
    pointer += `/${text.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  }
  return pointer;
}

function toFieldErrors(messages: unknown[]): ProblemFieldError[] {
  const errors: ProblemFieldError[] = [];
  for (const message of messages.slice(0, MAX_FIELD_ERRORS)) {
    if (typeof message === 'string') errors.push({ detail: truncate(message) });
  }
  return errors;
}

/** @internal The `upstream` name this library's errors carry. Never throws. */
export function upstreamName(node: unknown): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  try {
    const record = node as Record<PropertyKey, unknown>;
    if (keep(record, BRAND, record[BRAND]) !== true) return undefined;
    const name = keep(record, 'upstream', record['upstream']);
    return validUpstream(name);
  } catch {
    return undefined;
  }
}

/** @internal An upstream's logical name: a short, printable string. */
export function validUpstream(name: unknown): string | undefined {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_UPSTREAM && PRINTABLE.test(name) ? name : undefined;
}
