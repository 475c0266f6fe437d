/**
 * The default logger's writer: each line goes to file descriptor 2 with one `write(2)` before the call
 * returns, so a line written is the kernel's, and an exit, a `SIGTERM` or a crash right after cannot lose
 * it. `process.stderr.write` cannot promise that: on a pipe whose reader is behind, Node.js queues the
 * line in memory, and a process that dies then loses it. Here, when the pipe is full (`EAGAIN`), the
 * writer waits for its reader, as a synchronous stream would, a bounded time. Found through
 * `process.getBuiltinModule` (Node.js 20.16+, Bun, Deno), never imported: where there is none, the
 * line goes to `process.stderr`, else to `console.error`.
 */

interface FileSystem {
  writeSync(fd: number, data: string | Uint8Array): number;
}

interface RuntimeProcess {
  getBuiltinModule?: (id: string) => unknown;
  stderr?: { write?: unknown };
}

/** How long a line waits for a full pipe's reader, at most, before it is given up. */
const MAX_WAIT_MS = 10_000;
const PAUSE_MS = 2;

/** `undefined` until first asked; `null` where the runtime has no `node:fs`. */
let fileSystem: FileSystem | null | undefined;
let pause: Int32Array | undefined;
const encoder = new TextEncoder();

/** @internal Writes `line` and a newline on stderr, wholly, before it returns. Never throws. */
export function writeLine(line: string): void {
  const fs = fileSystem === undefined ? (fileSystem = load()) : fileSystem;
  if (fs === null) {
    fallback(line);
    return;
  }
  const text = `${line}\n`;
  try {
    const written = fs.writeSync(2, text);
    // ASCII, the usual case: as many bytes as characters. Otherwise the count decides.
    if (written !== text.length) rest(fs, encoder.encode(text), written);
  } catch (error) {
    if (again(error)) rest(fs, encoder.encode(text), 0);
    // Any other error: stderr is closed (EPIPE, EBADF), there is nowhere to write.
  }
}

/** Writes what a full pipe did not take, waiting for its reader. */
function rest(fs: FileSystem, bytes: Uint8Array, from: number): void {
  let offset = from;
  const deadline = Date.now() + MAX_WAIT_MS;
  while (offset < bytes.length) {
    try {
      offset += fs.writeSync(2, bytes.subarray(offset));
    } catch (error) {
      if (!again(error) || Date.now() > deadline) return;
      Atomics.wait((pause ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, PAUSE_MS);
    }
  }
}

function again(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'EAGAIN';
}

function load(): FileSystem | null {
  try {
    const runtime = (globalThis as { process?: RuntimeProcess }).process;
    const get = runtime?.getBuiltinModule;
    const fs = typeof get === 'function' ? (get.call(runtime, 'node:fs') as Partial<FileSystem> | undefined) : undefined;
    return typeof fs?.writeSync === 'function' ? (fs as FileSystem) : null;
  } catch {
    return null;
  }
}

function fallback(line: string): void {
  const stderr = (globalThis as { process?: RuntimeProcess }).process?.stderr;
  if (typeof stderr?.write === 'function') (stderr.write as (text: string) => unknown).call(stderr, `${line}\n`);
  else console.error(line);
}
