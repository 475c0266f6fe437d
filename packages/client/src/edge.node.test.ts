import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { EdgeVM } from '@edge-runtime/vm';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** Fails the bundle on any import of a Node.js built-in. */
const noNodeBuiltins: Plugin = {
  name: 'no-node-builtins',
  setup(bundler) {
    bundler.onResolve({ filter: /.*/ }, (args) => (builtins.has(args.path) || args.path.startsWith('node:') ? { errors: [{ text: `Node.js built-in "${args.path}" imported from ${args.importer}` }] } : undefined));
  },
};

const ENTRY = `
import { fetchWithRetry } from './fetch.ts';
import { parseProblem } from './problem.ts';

export async function run(url) {
  const events = [];
  const response = await fetchWithRetry(url + '/flaky', {
    method: 'POST',
    body: 'order',
    retry: { attempts: 3, baseDelayMs: 5, idempotencyKey: true, onRetry: (event) => events.push([event.attempt, event.reason, event.problem && event.problem.code]) },
  });
  return { status: response.status, problem: await parseProblem(response), body: await response.text(), events };
}
`;

let server: Server;
let url = '';
const arrivals: { key: string | undefined; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      arrivals.push({ key: req.headers['idempotency-key'] as string | undefined, body });
      const status = arrivals.length < 3 ? 503 : 502;
      res.writeHead(status, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status, code: status === 503 ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_TLS_FAILURE', retryable: status === 503 }));
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);

it('parseProblem and fetchWithRetry run in the Edge Runtime, bundled without any Node.js module', async () => {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'js' },
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'client',
    platform: 'browser',
    target: 'es2022',
    plugins: [noNodeBuiltins],
    logLevel: 'silent',
  });
  const vm = new EdgeVM();
  vm.evaluate(result.outputFiles[0]!.text);
  const answer = (await vm.evaluate(`client.run(${JSON.stringify(url)})`)) as Record<string, unknown>;
  // Objects made in the VM have its prototypes: compare their JSON.
  expect(JSON.parse(JSON.stringify(answer))).toEqual({
    status: 502,
    problem: { type: 'about:blank', status: 502, code: 'UPSTREAM_TLS_FAILURE', retryable: false },
    body: '{"status":502,"code":"UPSTREAM_TLS_FAILURE","retryable":false}',
    events: [
      [1, 'verdict-retryable', 'UPSTREAM_UNAVAILABLE'],
      [2, 'verdict-retryable', 'UPSTREAM_UNAVAILABLE'],
    ],
  });
  expect(arrivals.map((arrival) => arrival.body)).toEqual(['order', 'order', 'order']);
  expect(new Set(arrivals.map((arrival) => arrival.key)).size).toBe(1);
  expect(arrivals[0]?.key).toMatch(/^[0-9a-f-]{36}$/);
});
