/**
 * @module
 * The Node.js entry of the core: the hop of the request being handled, kept in AsyncLocalStorage, so
 * that `withUpstream`, `fetchUpstream`, `forwardHeaders()` and the proxy integrations called while
 * handling a request pass its request ID and trace context on without being told. Adapters' request-ID
 * middlewares call {@link runWithHop}; an application calls it only for work it starts by itself.
 */
/// <reference types="node" />
import { AsyncLocalStorage } from 'node:async_hooks';
import { sharedHopStore } from './hop.js';
import type { Hop } from './hop.js';

export type { Hop } from './hop.js';

let storage: AsyncLocalStorage<Hop> | undefined;

/**
 * Runs `fn` with `hop` as the current request's hop, for everything it starts, awaited or not.
 *
 * @example
 * ```ts
 * app.use((req, res, next) => runWithHop(hopOf(req.headers, req.id, conventions), next));
 * ```
 */
export function runWithHop<T>(hop: Hop, fn: () => T): T {
  storage ??= sharedHopStore(() => new AsyncLocalStorage<Hop>());
  return storage.run(hop, fn);
}
