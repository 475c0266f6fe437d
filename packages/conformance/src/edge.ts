import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { EdgeVM } from '@edge-runtime/vm';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import type { Faults } from '@gateway-errors/fault-servers';
import { HEADERS_BEFORE_FAILURE } from './scenarios.js';

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
 * A Hono app with the adapter, for a Web-standard runtime. Its routes fail the
 * way the Node.js targets' routes do, with the runtime's own `fetch` (and
 * axios on its fetch adapter) against the same fault servers, or by throwing
 * what the socket-free scenarios throw. No Node.js module is reachable.
 */
const APP = `
import axios from 'axios';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { defineConventions, ServiceUnavailableError } from '@gateway-errors/core';
import { fetchUpstream, withUpstream } from '@gateway-errors/core/upstream';
import { gatewayErrors, notFound, requestId } from '@gateway-errors/hono';

export function makeApp(mode, f, headersBeforeFailure) {
  const conventions = defineConventions({ mode, onError: false });
  const client = axios.create({ adapter: 'fetch' });
  const app = new Hono();
  app.use(requestId(conventions));
  const actions = {
    refused: () => fetch(f.refused + '/orders'),
    reset: () => client.get(f.reset + '/orders?token=tok-SECRET', { headers: { authorization: 'Bearer auth-SECRET' } }),
    'reset-idempotent': () => client.get(f.reset + '/orders'),
    garbage: () => fetch(f.garbage + '/orders'),
    'hang-timeout': () => withUpstream('pricing', (signal) => fetch(f.hang + '/prices', { signal }), { timeoutMs: 100 }),
    'tls-self-signed': () => fetch(f.tls + '/orders'),
    'upstream-500': () => client.get(f.status + '/status/500'),
    'upstream-404': () => client.get(f.status + '/status/404'),
    'upstream-503': () => fetchUpstream('search', f.status + '/status/503'),
    'service-unavailable-error': () => { throw new ServiceUnavailableError({ upstream: 'search', retryAfter: 30, detail: 'Search is being re-indexed.' }); },
    'http-error-404': () => { throw new HTTPException(404, { message: 'No such order' }); },
    'thrown-null': () => { throw null; },
    'thrown-string': () => { throw 'ECONNREFUSED'; },
  };
  const scenario = async (c) => {
    const action = actions[c.req.param('name')];
    if (action === undefined) return c.notFound();
    await action();
    return c.json({ ok: true });
  };
  app.all('/s/:name', scenario);
  app.all('/stale/:name', (c) => {
    for (const [name, value] of Object.entries(headersBeforeFailure)) c.header(name, value);
    return scenario(c);
  });
  app.notFound(notFound(conventions));
  app.onError(gatewayErrors(conventions));
  return app;
}
`;

/**
 * Scenarios the Edge Runtime app answers: every one but the opossum breaker
 * (a Node.js library) and the request bodies that each framework parses itself.
 */
export const EDGE_SCENARIOS: ReadonlySet<string> = new Set([
  'refused',
  'reset',
  'reset-idempotent',
  'garbage',
  'hang-timeout',
  'tls-self-signed',
  'upstream-500',
  'upstream-404',
  'upstream-503',
  'service-unavailable-error',
  'http-error-404',
  'thrown-null',
  'thrown-string',
  'stale-headers',
  'stale-headers-4xx',
  'head',
  'accept-html',
  'hostile-request-id',
  'no-request-id',
  'route-not-found',
]);

export interface EdgeAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
}

/** Bundles the app for the browser platform (no Node.js built-in may be reached) and loads it in an Edge Runtime VM. */
export async function edgeApp(
  faults: Faults,
): Promise<(mode: string, request: { method: string; path: string; headers: Record<string, string> }) => Promise<EdgeAnswer>> {
  const result = await build({
    stdin: { contents: APP, resolveDir: source('.'), loader: 'js' },
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'edgeApp',
    platform: 'browser',
    target: 'es2022',
    alias: {
      '@gateway-errors/core/upstream': source('../../core/src/upstream.ts'),
      '@gateway-errors/core': source('../../core/src/index.ts'),
      '@gateway-errors/hono': source('../../hono/src/index.ts'),
    },
    plugins: [noNodeBuiltins],
    logLevel: 'silent',
  });
  const vm = new EdgeVM();
  vm.evaluate(result.outputFiles[0]!.text);
  const apps = new Map<string, unknown>();
  return async (mode, request) => {
    if (!apps.has(mode)) {
      const args = [mode, faults, HEADERS_BEFORE_FAILURE].map((arg) => JSON.stringify(arg)).join(', ');
      apps.set(mode, vm.evaluate(`edgeApp.makeApp(${args})`));
    }
    const app = apps.get(mode) as { request(path: string, init: RequestInit): Promise<Response> };
    const response = await app.request(request.path, { method: request.method, headers: request.headers });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    return { status: response.status, headers, text: await response.text() };
  };
}
