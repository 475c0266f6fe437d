import { defineProject } from 'vitest/config';
import { alias, setupFiles } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias },
  test: { name: 'client', include: ['src/**/*.test.ts'], setupFiles },
});
