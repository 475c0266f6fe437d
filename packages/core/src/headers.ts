import { keep } from './own.js';

/** A header value as Node.js (`IncomingMessage.headers`) or a plain object holds it. */
export type HeaderValue = string | readonly string[] | number | undefined;

/**
 * Request or response headers in any of the shapes frameworks use: a Web
 * `Headers` (or anything with `get(name)`), or a record keyed by lower-case
 * names, as Node.js, Express, Fastify and NestJS hand them over.
 */
export type HeadersLike =
  | { get(name: string): string | null | undefined }
  | Readonly<Record<string, HeaderValue>>;

/** @internal Reads one header; `name` must be lower-case. Never throws. */
export function readHeader(headers: HeadersLike | null | undefined, name: string): HeaderValue | null {
  if (headers === null || headers === undefined || typeof headers !== 'object') return undefined;
  try {
    const get = keep(headers, 'get', (headers as { get?: unknown }).get);
    if (typeof get === 'function') {
      return (get as (this: unknown, key: string) => string | null | undefined).call(headers, name);
    }
    // A header a polluted Object.prototype holds is not the request's.
    return Object.hasOwn(headers, name) ? ((headers as Readonly<Record<string, HeaderValue>>)[name] as HeaderValue) : undefined;
  } catch {
    return undefined;
  }
}

/** @internal The value of a header that must occur once: arrays and non-strings yield `undefined`. */
export function readSingleHeader(headers: HeadersLike | null | undefined, name: string): string | undefined {
  const value = readHeader(headers, name);
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0] as string;
  return undefined;
}
