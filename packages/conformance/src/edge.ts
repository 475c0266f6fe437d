import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { EdgeVM } from '@edge-runtime/vm';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Fails the bundle on any import of a Node.js built-in, wherever it comes from. */
const noNodeBuiltins: Plugin = {
  name: 'no-node-builtins',
  setup(bundler) {
    bundler.onResolve({ filter: /.*/ }, (args) =>
      builtins.has(args.path) || args.path.startsWith('node:')
        ? { errors: [{ text: `Node.js built-in "${args.path}" imported from ${args.importer}` }] }
        : undefined,
    );
  },
};

/**
 * A Hono app with the adapter, for a Web-standard runtime: its routes throw
 * what the socket-free scenarios throw, without any Node.js module.
 */
const APP = `
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { defineConventions, ServiceUnavailableError } from '@gateway-errors/core';
import { gatewayErrors, notFound, requestId } from '@gateway-errors/hono';

export function makeApp(mode) {
  const conventions = defineConventions({ mode, onError: false });
  const app = new Hono();
  app.use(requestId(conventions));
  const actions = {
    'service-unavailable-error': () => { throw new ServiceUnavailableError({ upstream: 'search', retryAfter: 30, detail: 'Search is being re-indexed.' }); },
    'http-error-404': () => { throw new HTTPException(404, { message: 'No such order' }); },
    'thrown-null': () => { throw null; },
    'thrown-string': () => { throw 'ECONNREFUSED'; },
  };
  app.all('/s/:name', async (c) => {
    const action = actions[c.req.param('name')];
    if (action === undefined) return c.notFound();
    await action();
    return c.json({ ok: true });
  });
  app.notFound(notFound(conventions));
  app.onError(gatewayErrors(conventions));
  return app;
}
`;

/** Scenarios whose routes need no socket, run again on the Edge Runtime. */
export const EDGE_SCENARIOS: ReadonlySet<string> = new Set(['service-unavailable-error', 'http-error-404', 'thrown-null', 'thrown-string', 'route-not-found']);

export interface EdgeAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
}

/** Bundles the app for the browser platform (no Node.js built-in may be reached) and loads it in an Edge Runtime VM. */
export async function edgeApp(): Promise<(mode: string, request: { method: string; path: string; headers: Record<string, string> }) => Promise<EdgeAnswer>> {
  const result = await build({
    stdin: { contents: APP, resolveDir: source('.'), loader: 'js' },
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'edgeApp',
    platform: 'browser',
    target: 'es2022',
    alias: {
      '@gateway-errors/core': source('../../core/src/index.ts'),
      '@gateway-errors/hono': source('../../hono/src/index.ts'),
    },
    plugins: [noNodeBuiltins],
    logLevel: 'silent',
  });
  const vm = new EdgeVM();
  vm.evaluate(result.outputFiles![0]!.text);
  const apps = new Map<string, unknown>();
  return async (mode, request) => {
    if (!apps.has(mode)) apps.set(mode, vm.evaluate(`edgeApp.makeApp(${JSON.stringify(mode)})`));
    const app = apps.get(mode) as { request(path: string, init: RequestInit): Promise<Response> };
    const response = await app.request(request.path, { method: request.method, headers: request.headers });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    return { status: response.status, headers, text: await response.text() };
  };
}
