import swc from 'unplugin-swc';
import { defineProject } from 'vitest/config';
import { alias, setupFiles } from '../../vitest.shared.js';

export default defineProject({
  // Nest's ValidationPipe reads parameter types from decorator metadata, which only SWC emits here.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { alias },
  test: {
    name: 'nestjs',
    include: ['src/**/*.test.ts'],
    // Type tests (`*.test-d.ts`): `pnpm typecheck` compiles them with tsconfig.test.json; `vitest --typecheck` runs them as tests.
    typecheck: { include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.test.json' },
    setupFiles,
  },
});
