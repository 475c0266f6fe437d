// Child processes of the runner: pinned to the server core, talking over IPC, killed on any exit.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChildReply, ParentRequest } from './protocol.js';

export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const live = new Set<ChildProcess>();

/** Whether `taskset` can pin processes here (Linux with util-linux). */
export const canPin: boolean = (() => {
  if (process.platform !== 'linux') return false;
  const probe = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  return probe.status === 0;
})();

/** Pins this process (the load generator) and every thread it has to one core. */
export function pinSelf(core: number): boolean {
  if (!canPin) return false;
  return spawnSync('taskset', ['-a', '-c', '-p', String(core), String(process.pid)], { stdio: 'ignore' }).status === 0;
}

export interface ChildOptions {
  /** Node.js flags added to the child's (e.g. `--cpu-prof`). */
  readonly nodeFlags?: readonly string[];
  /** Show the child's stdout and stderr instead of writing them to /dev/null. */
  readonly verbose?: boolean;
}

export interface Child {
  readonly process: ChildProcess;
  /** Asks the child for a `cpu` or `memory` reading. */
  request<TReply extends ChildReply>(type: 'cpu' | 'memory'): Promise<TReply>;
  next<TReply extends ChildReply>(type: TReply['type'], timeoutMs?: number): Promise<TReply>;
  stop(): Promise<void>;
}

// Logs of the servers go to a real sink, as in production: /dev/null opened as a file, so each
// console.error is one synchronous write(2) that the kernel discards.
let sink: number | undefined;

/** Starts `src/<entry>` under Node.js with tsx, pinned to the server core where the OS allows. */
export function startChild(entry: string, args: readonly string[], options: ChildOptions = {}): Child {
  sink ??= openSync('/dev/null', 'w');
  const node = [process.execPath, '--expose-gc', '--import', 'tsx', ...(options.nodeFlags ?? []), `src/${entry}`, ...args];
  const [command, ...rest] = canPin ? ['taskset', '-c', String(SERVER_CORE), ...node] : node;
  const child = spawn(command!, rest, {
    cwd: benchDir,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: options.verbose === true ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', sink, sink, 'ipc'],
  });
  live.add(child);
  // A child that already left makes IPC writes fail with EPIPE: its exit is handled below.
  child.on('error', () => undefined);
  child.once('exit', () => live.delete(child));

  let nextId = 1;
  const waiting: Array<{ type: string; id?: number; resolve: (reply: ChildReply) => void; reject: (error: Error) => void }> = [];
  child.on('message', (reply: ChildReply) => {
    if (reply.type === 'failed') {
      for (const waiter of waiting.splice(0)) waiter.reject(new Error(`${entry} ${args.join(' ')} failed:\n${reply.message}`));
      return;
    }
    const id = 'id' in reply ? reply.id : undefined;
    const index = waiting.findIndex((waiter) => waiter.type === reply.type && waiter.id === id);
    if (index !== -1) waiting.splice(index, 1)[0]!.resolve(reply);
  });
  child.once('exit', (code, signal) => {
    for (const waiter of waiting.splice(0)) {
      waiter.reject(new Error(`${entry} ${args.join(' ')} exited (${signal ?? code}); run with --verbose to see why`));
    }
  });

  function wait<TReply extends ChildReply>(type: string, id: number | undefined, timeoutMs: number): Promise<TReply> {
    return new Promise<TReply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${entry} ${args.join(' ')}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      waiting.push({
        type,
        ...(id === undefined ? {} : { id }),
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply as TReply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  return {
    process: child,
    request<TReply extends ChildReply>(type: 'cpu' | 'memory'): Promise<TReply> {
      const id = (nextId += 1);
      const reply = wait<TReply>(type, id, 30_000);
      child.send({ type, id } satisfies ParentRequest);
      return reply;
    },
    next: (type, timeoutMs = 60_000) => wait(type, undefined, timeoutMs),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.send({ type: 'exit' } satisfies ParentRequest, (error) => error && child.kill('SIGTERM'));
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Kills every child still running: on exit, on errors, on Ctrl-C. */
export function killChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

process.once('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killChildren();
    process.exit(130);
  });
}
