/**
 * The current request's hop where the runtime offers AsyncLocalStorage: `withUpstream` and
 * `fetchUpstream` called while Hono handles a request find its ID and trace context by themselves,
 * as they do under the other adapters. Found through `process.getBuiltinModule` (Node.js 20.16+,
 * Bun, Deno), never imported: the adapter still runs where there is none (Workers without
 * `nodejs_compat`), and there the hop is handed over (`requestHop(c)`).
 */
import { sharedHopStore } from '@gateway-errors/core';
import type { Hop, HopStore } from '@gateway-errors/core';

/** What the adapter needs of an `AsyncLocalStorage`. */
interface HopStorage extends HopStore {
  run<T>(hop: Hop, fn: () => T): T;
}

interface RuntimeProcess {
  getBuiltinModule?: (id: string) => unknown;
}

/** `undefined` until first asked; `null` where the runtime has no AsyncLocalStorage. */
let storage: HopStorage | null | undefined;

/** @internal The shared hop storage (the one `@gateway-errors/core/node` uses), or `null` where there is none. */
export function hopStorage(): HopStorage | null {
  if (storage !== undefined) return storage;
  storage = null;
  try {
    const runtime = (globalThis as { process?: RuntimeProcess }).process;
    const load = runtime?.getBuiltinModule;
    if (typeof load !== 'function') return storage;
    const hooks = load.call(runtime, 'node:async_hooks') as { AsyncLocalStorage?: unknown } | undefined;
    const Storage = hooks?.AsyncLocalStorage;
    if (typeof Storage !== 'function') return storage;
    const shared = sharedHopStore(() => new (Storage as new () => HopStorage)());
    if (typeof shared.run === 'function') storage = shared;
  } catch {
    storage = null;
  }
  return storage;
}
