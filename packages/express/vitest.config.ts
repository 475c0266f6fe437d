import { defineProject } from 'vitest/config';
import { alias, setupFiles } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias },
  test: {
    name: 'express',
    include: ['src/**/*.test.ts'],
    // Type tests (`*.test-d.ts`): `pnpm typecheck` compiles them with tsconfig.test.json; `vitest --typecheck` runs them as tests.
    typecheck: { include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.test.json' },
    setupFiles,
  },
});
