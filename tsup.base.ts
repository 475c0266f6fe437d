import { defineConfig } from 'tsup';
import type { Options } from 'tsup';

/** The build every public package shares: ESM (.mjs) and CJS (.cjs) with declarations for both. */
export function packageBuild(entry: Record<string, string>, platform: Options['platform']): ReturnType<typeof defineConfig> {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    target: 'es2022',
    platform,
    outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.mjs' }),
  });
}
