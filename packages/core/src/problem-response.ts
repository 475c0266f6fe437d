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
  const problem = renderProblem(error, { method: request.method, url: request.url, headers: request.headers }, conventions);
  // Response accepts 200–599; 499 (client closed) is in range and nobody reads it anyway.
  return new Response(problem.body, { status: problem.status, headers: problem.headers });
}
