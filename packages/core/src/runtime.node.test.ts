import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as vm from 'node:vm';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import type * as Core from './index.js';
import { afterAll, describe, expect, it } from 'vitest';

const here = new URL('.', import.meta.url).pathname;
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Fails the bundle on any import of a Node.js built-in. */
const noNodeBuiltins: Plugin = {
  name: 'no-node-builtins',
  setup(bundler) {
    bundler.onResolve({ filter: /.*/ }, (args) => {
      if (builtins.has(args.path) || args.path.startsWith('node:')) {
        return { errors: [{ text: `Node.js built-in "${args.path}" imported from ${args.importer}` }] };
      }
      return undefined;
    });
  },
};

async function bundle(entry: string, format: 'esm' | 'iife'): Promise<string> {
  const result = await build({
    entryPoints: [join(here, entry)],
    bundle: true,
    write: false,
    platform: 'neutral',
    format,
    ...(format === 'iife' ? { globalName: 'gatewayErrors' } : {}),
    target: 'es2022',
    plugins: [noNodeBuiltins],
    logLevel: 'silent',
  });
  return result.outputFiles![0]!.text;
}

/** Only what the Web platform (a Worker, Deno, Bun) offers: no process, Buffer, require or module. */
function webContext(): vm.Context {
  return vm.createContext({
    URL,
    Headers,
    Request,
    Response,
    AbortController,
    AbortSignal,
    DOMException,
    TextEncoder,
    TextDecoder,
    crypto: globalThis.crypto,
    console,
    setTimeout,
    clearTimeout,
  });
}

describe('the core is runtime-neutral', () => {
  it.each(['index.ts', 'upstream.ts'])('%s bundles for a neutral platform with no Node.js built-in', async (entry) => {
    const code = await bundle(entry, 'esm');
    expect(code).not.toMatch(/\brequire\(|\bBuffer\b|\bprocess\.(?!env)|__dirname|__filename/);
  });

  it('works in a context that has Web APIs only', async () => {
    const code = await bundle('index.ts', 'iife');
    const context = webContext();
    vm.runInContext(`${code}\nglobalThis.gatewayErrors = gatewayErrors;`, context);
    const result = vm.runInContext(
      `(() => {
        const { renderProblem, problemResponse, defineConventions, ServiceUnavailableError } = gatewayErrors;
        const conventions = defineConventions({ onError: false });
        const error = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
        const problem = renderProblem(error, { method: 'GET', url: '/x', headers: new Headers() }, conventions);
        const response = problemResponse(new ServiceUnavailableError(), new Request('https://svc.example/a?b'), conventions);
        return { status: problem.status, body: JSON.parse(problem.body), typeofProcess: typeof process, response: { status: response.status, retryAfter: response.headers.get('retry-after'), type: response.headers.get('content-type') } };
      })()`,
      context,
    ) as { status: number; body: Record<string, unknown>; typeofProcess: string; response: Record<string, unknown> };
    expect(result.typeofProcess).toBe('undefined');
    expect(result.status).toBe(502);
    expect(result.body['code']).toBe('UPSTREAM_UNREACHABLE');
    expect(result.body['requestId']).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.response).toEqual({ status: 503, retryAfter: '5', type: 'application/problem+json; charset=utf-8' });
  });
});

describe('errors are recognised by brand, not instanceof', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-errors-copies-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('two copies of the library recognise each other', async () => {
    const code = await bundle('index.ts', 'esm');
    writeFileSync(join(dir, 'a.mjs'), code);
    writeFileSync(join(dir, 'b.mjs'), code);
    const a = (await import(pathToFileURL(join(dir, 'a.mjs')).href)) as typeof Core;
    const b = (await import(pathToFileURL(join(dir, 'b.mjs')).href)) as typeof Core;
    const error = new a.ServiceUnavailableError({ upstream: 'search' });
    expect(error instanceof b.ServiceUnavailableError).toBe(false);
    expect(b.ServiceUnavailableError.isInstance(error)).toBe(true);
    expect(b.UpstreamError.isInstance(error)).toBe(true);
    expect(b.BadGatewayError.isInstance(error)).toBe(false);
    expect(b.isUpstreamError(error)).toBe(true);
    expect(b.classify(error)).toMatchObject({ status: 503, upstream: 'search' });
  });

  it('the brand never shows in JSON or keys', async () => {
    const { BadGatewayError } = await import('./errors.js');
    const error = new BadGatewayError({ upstream: 'x' });
    expect(Object.keys(error)).not.toContain(expect.stringContaining('gateway-errors'));
    expect(JSON.stringify(error)).not.toContain('gateway-errors');
  });
});
