import type { Conventions, ConventionsOptions } from './conventions.js';
import { renderProblem } from './render.js';

/**
 * The whole product for fetch-style handlers (Next.js route handlers,
 * `Bun.serve`, `Deno.serve`, Workers): one `catch`, one Web `Response`.
 *
 * @example
 * ```ts
 * export default {
 *   async fetch(request: Request) {
 *     try {
 *       return await handle(request);
 *     } catch (error) {
 *       return problemResponse(error, request, conventions);
 *     }
 *   },
 * };
 * ```
 */
export function problemResponse(error: unknown, request: Request, conventions?: Conventions | ConventionsOptions): Response {
  try {
    const problem = renderProblem(error, { method: read(request, 'method'), url: read(request, 'url'), headers: read(request, 'headers') }, conventions);
    // Response accepts 200–599; 499 (client closed) is in range and nobody reads it anyway.
    return new Response(problem.body, { status: problem.status, headers: problem.headers });
  } catch {
    // Never reached with the core's own problem; a Response that cannot be built must still not throw.
    return new Response(LAST_RESORT, { status: 500, headers: { 'content-type': 'application/problem+json; charset=utf-8', 'cache-control': 'no-store' } });
  }
}

const LAST_RESORT = '{"type":"about:blank","title":"Internal Server Error","status":500,"code":"INTERNAL_ERROR","retryable":false}';

/** A field of the `Request`, or `undefined` where it is not one (a getter that throws, a hostile object). */
function read<TKey extends 'method' | 'url' | 'headers'>(request: Request, key: TKey): Request[TKey] | undefined {
  try {
    return typeof request === 'object' && request !== null ? request[key] : undefined;
  } catch {
    return undefined;
  }
}
