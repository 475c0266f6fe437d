import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineProject } from 'vitest/config';
import { alias, setupFiles } from '../../vitest.shared.js';

const nodeModules = fileURLToPath(new URL('./node_modules/', import.meta.url));

/**
 * Runs the adapter's own tests against NestJS 11. The adapter (and its test file) would import its
 * NestJS 12 devDependencies; every `@nestjs/*` import, and the packages Nest shares with its users,
 * resolve to this package's copies instead. A `@nestjs/*` package missing here fails to resolve
 * rather than falling back to NestJS 12.
 */
export default defineProject({
  // Nest's ValidationPipe reads parameter types from decorator metadata, which only SWC emits here.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: [
      ...Object.entries(alias).map(([find, replacement]) => ({ find, replacement })),
      {
        find: /^(@nestjs\/[^/]+|class-transformer|class-validator|reflect-metadata|rxjs)(\/.*)?$/,
        replacement: `${nodeModules}$1$2`,
      },
    ],
  },
  test: {
    name: 'nestjs (nest 11)',
    include: ['src/**/*.test.ts', '../nestjs/src/nestjs.node.test.ts'],
    setupFiles: [...setupFiles, 'src/nest-11.setup.ts'],
  },
});
