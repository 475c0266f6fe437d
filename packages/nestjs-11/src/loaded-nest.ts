import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The `@nestjs/*` packages Node.js has loaded in this worker, each with the versions of every copy.
 * NestJS ships CommonJS, so each of its files is in `require.cache` under its real path, one
 * directory per copy.
 */
export function loadedNestPackages(): Record<string, string[]> {
  const roots = new Set<string>();
  for (const file of Object.keys(createRequire(import.meta.url).cache)) {
    const root = /^(.*[\\/]node_modules[\\/]@nestjs[\\/][^\\/]+)[\\/]/.exec(file)?.[1];
    if (root !== undefined) roots.add(root);
  }
  const loaded: Record<string, string[]> = {};
  for (const root of roots) {
    const { name, version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { name: string; version: string };
    (loaded[name] ??= []).push(version);
  }
  return loaded;
}
