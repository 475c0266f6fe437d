/**
 * The core's sources bundled as one module, as the package ships it, in a temporary folder: for tests
 * that run it in a child process of its own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface BundledCore {
  /** The folder that holds `core.mjs`; a script written there imports it as `./core.mjs`. */
  readonly dir: string;
  remove(): Promise<void>;
}

export async function bundleCore(prefix: string): Promise<BundledCore> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await build({
    entryPoints: [fileURLToPath(new URL('../index.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    outfile: join(dir, 'core.mjs'),
    logLevel: 'silent',
  });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
