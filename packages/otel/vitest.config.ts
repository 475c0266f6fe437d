import { defineProject } from 'vitest/config';
import { alias, setupFiles } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias },
  test: {
    name: 'otel',
    include: ['src/**/*.test.ts', 'rules/**/*.test.ts'],
    setupFiles,
  },
});
