import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/tracing'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
