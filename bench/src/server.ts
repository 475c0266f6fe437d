/**
 * One benchmark server, run as a child process of `run.ts` (pinned to its own core).
 * argv[2]: `<framework>:<variant>`. It answers the parent over IPC: `ready` with its port, then
 * `cpu` (process.cpuUsage() and the wall clock, so the parent can take deltas around a round)
 * and `memory` (after a forced GC) on request, and exits on `exit` or when the parent goes away.
 */
import { refusedFetchError } from './apps/shared.js';
import type { Framework, RunningApp, Variant } from './apps/shared.js';
import type { ChildReply, ParentRequest } from './protocol.js';

const [framework, variant] = (process.argv[2] ?? '').split(':') as [Framework, Variant];

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

function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  // Twice: the first pass may only queue finalizers that free more.
  gc();
  gc();
}

async function main(): Promise<void> {
  const { start } = await load(framework);
  const app = await start(variant, await refusedFetchError());
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
