import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/tracing', 'examples/demo'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
