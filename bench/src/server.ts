/**
 * One benchmark server, run as a child process of `run.ts` (pinned to its own core).
 * argv[2]: `<stack>:<variant>`, where a stack is a framework or a proxy stack; argv[3], for a proxy stack,
 * the origin of the refused upstream it forwards to. It answers the parent over IPC: `ready` with its port, then
 * `cpu` (process.cpuUsage() and the wall clock, so the parent can take deltas around a round)
 * and `memory` (after a forced GC) on request, and exits on `exit` or when the parent goes away.
 */
import { refusedFetchError } from './apps/shared.js';
import type { Framework, ProxyStack, RunningApp, Stack, Variant } from './apps/shared.js';
import type { ChildReply, ParentRequest } from './protocol.js';

const [stack, variant] = (process.argv[2] ?? '').split(':') as [Stack, Variant];
const target = process.argv[3];

function send(message: ChildReply): void {
  process.send?.(message);
}

async function load(name: Framework): Promise<{ start(variant: Variant, upstreamError: unknown): Promise<RunningApp> }> {
  switch (name) {
    case 'express':
      return import('./apps/express.js');
    case 'fastify':
      return import('./apps/fastify.js');
    case 'hono':
      return import('./apps/hono.js');
    case 'nest':
      return import('./apps/nest.js');
    case 'nest-fastify':
      return import('./apps/nest.js').then(({ startOnFastify }) => ({ start: startOnFastify }));
    default:
      throw new Error(`unknown framework ${String(name)}`);
  }
}

async function loadProxy(name: ProxyStack): Promise<{ start(variant: Variant, target: string): Promise<RunningApp> }> {
  switch (name) {
    case 'express-hpm':
      return import('./apps/express-hpm.js');
    case 'fastify-proxy':
      return import('./apps/fastify-proxy.js');
    case 'hono-proxy':
      return import('./apps/hono-proxy.js');
    default:
      throw new Error(`unknown proxy stack ${String(name)}`);
  }
}

async function startApp(): Promise<RunningApp> {
  if (target === undefined) {
    const { start } = await load(stack as Framework);
    return start(variant, await refusedFetchError());
  }
  const { start } = await loadProxy(stack as ProxyStack);
  const app = await start(variant, target);
  // The refused port was free when the runner chose it: this server must not have been given it since.
  if (new URL(target).port === String(app.port)) throw new Error(`listening on the upstream's port ${app.port}: run again`);
  return app;
}

function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  // Twice: the first pass may only queue finalizers that free more.
  gc();
  gc();
}

async function main(): Promise<void> {
  const app = await startApp();
  let closing = false;
  const exit = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    // Bounded: a keep-alive socket must not hold the process (and its CPU profile) forever.
    const timer = setTimeout(() => process.exit(0), 2000);
    await app.close().catch(() => undefined);
    clearTimeout(timer);
    process.exit(0);
  };
  process.on('message', (message: ParentRequest) => {
    switch (message.type) {
      case 'cpu': {
        const { user, system } = process.cpuUsage();
        send({ type: 'cpu', id: message.id, user, system, wallNs: Number(process.hrtime.bigint()) });
        break;
      }
      case 'memory': {
        forceGc();
        const { heapUsed, rss } = process.memoryUsage();
        send({ type: 'memory', id: message.id, heapUsed, rss });
        break;
      }
      case 'exit':
        void exit();
        break;
    }
  });
  process.on('disconnect', () => void exit());
  send({ type: 'ready', port: app.port });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
});
