/**
 * @gateway-errors/client: clients that obey the server's retry verdict. `parseProblem` reads an RFC 9457
 * problem from what a client received; `decideRetry` decides whether and when to send a request again;
 * `fetchWithRetry` is fetch with that decision.
 */
export { decideRetry, resolveRetryOptions, retryAfterMs } from './decision.js';
export type { ResolvedRetryOptions, RetryDecision, RetryInput, RetryOptions, RetryReason } from './decision.js';
export { fetchWithRetry } from './fetch.js';
export type { FetchRetryOptions, FetchWithRetryInit, RetryEvent } from './fetch.js';
export { isProblemType, MAX_PROBLEM_BYTES, parseProblem, problemFromBody } from './problem.js';
export type { GatewayProblemExtensions, Problem, ProblemDetails } from './problem.js';
export * from './integrations.js';
