import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', upstream: 'src/upstream.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: false,
  target: 'es2022',
  platform: 'neutral',
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.mjs' }),
});
