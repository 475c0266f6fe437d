/**
 * The lines the default logger writes on stderr (file descriptor 2, through `node:fs`), caught instead
 * of printed until `restore()`.
 */
import type * as FileSystemModule from 'node:fs';
import { createRequire } from 'node:module';
import { vi } from 'vitest';

/** The module object `process.getBuiltinModule('node:fs')` gives the writer: the same one. */
const fs = createRequire(import.meta.url)('node:fs') as typeof FileSystemModule;

export interface CapturedStderr {
  /** The log lines written so far, without their newline. */
  lines(): string[];
  restore(): void;
}

export function captureStderr(): CapturedStderr {
  const written: string[] = [];
  const original = fs.writeSync.bind(fs) as (...args: unknown[]) => number;
  const spy = vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
    if (fd !== 2) return original(fd, data, ...rest);
    const text = typeof data === 'string' ? data : new TextDecoder().decode(data as Uint8Array);
    written.push(text);
    return Buffer.byteLength(text);
  }) as typeof fs.writeSync);
  return {
    lines: () => written.join('').split('\n').filter((line) => line.startsWith('{"level":')),
    restore: () => spy.mockRestore(),
  };
}
