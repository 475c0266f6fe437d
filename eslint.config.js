import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'diagnostics_channel', 'dns',
  'events', 'fs', 'http', 'http2', 'https', 'inspector', 'module', 'net', 'os', 'path', 'perf_hooks', 'process',
  'querystring', 'readline', 'stream', 'string_decoder', 'timers', 'tls', 'tty', 'url', 'util', 'v8', 'vm',
  'worker_threads', 'zlib',
];

const nodeGlobals = ['process', 'Buffer', 'require', '__dirname', '__filename', 'setImmediate'];

const coreInternals = [
  { group: ['@gateway-errors/core/*', '!@gateway-errors/core/upstream'], message: "Adapters use the core's public API only." },
  { group: ['**/core/src/**', '**/core/dist/**'], message: "Adapters use the core's public API only." },
];

/** `no-restricted-imports` options for code that must run on edge runtimes. */
function runtimeNeutral(frameworks, extraPatterns = []) {
  return {
    patterns: [
      { group: ['node:*'], message: 'Runtime-neutral code uses no Node.js built-ins.' },
      { group: frameworks, message: 'Runtime-neutral code imports no framework.' },
      ...extraPatterns,
    ],
    paths: nodeBuiltins.map((name) => ({ name, message: 'Runtime-neutral code uses no Node.js built-ins.' })),
  };
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      'max-params': ['error', 3],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The core runs on edge runtimes: Web APIs only, no Node.js built-ins and no frameworks.
    files: ['packages/core/src/**/*.ts'],
    ignores: ['packages/*/src/**/*.test.ts', 'packages/*/src/test-support/**'],
    rules: {
      'no-restricted-imports': ['error', runtimeNeutral(['express', 'fastify', 'fastify-plugin', '@nestjs/*', 'hono', 'hono/*'])],
      'no-restricted-globals': ['error', ...nodeGlobals],
    },
  },
  {
    // Hono runs on edge runtimes too; adapters translate and leave every decision to the core's public API.
    files: ['packages/hono/src/**/*.ts'],
    ignores: ['packages/*/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', runtimeNeutral(['express', 'fastify', 'fastify-plugin', '@nestjs/*'], coreInternals)],
      'no-restricted-globals': ['error', ...nodeGlobals],
    },
  },
  {
    files: ['packages/express/src/**/*.ts', 'packages/fastify/src/**/*.ts', 'packages/nestjs/src/**/*.ts'],
    ignores: ['packages/*/src/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: coreInternals }] },
  },
  {
    files: ['packages/*/src/**/*.test.ts', 'packages/*/src/test-support/**/*.ts'],
    rules: { 'max-params': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', Response: 'readonly', Request: 'readonly', Headers: 'readonly', performance: 'readonly' },
    },
  },
);
