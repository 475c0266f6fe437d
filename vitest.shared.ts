import { fileURLToPath } from 'node:url';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** Tests run against the workspace packages' sources; `pnpm check:packages` checks their builds. */
export const alias: Record<string, string> = {
  '@gateway-errors/core/upstream': source('./packages/core/src/upstream.ts'),
  '@gateway-errors/core/node': source('./packages/core/src/node.ts'),
  '@gateway-errors/core': source('./packages/core/src/index.ts'),
  '@gateway-errors/express': source('./packages/express/src/index.ts'),
  '@gateway-errors/fastify': source('./packages/fastify/src/index.ts'),
  '@gateway-errors/hono': source('./packages/hono/src/index.ts'),
  '@gateway-errors/nestjs/swagger': source('./packages/nestjs/src/swagger.ts'),
  '@gateway-errors/nestjs': source('./packages/nestjs/src/index.ts'),
  '@gateway-errors/client': source('./packages/client/src/index.ts'),
  '@gateway-errors/otel/prometheus': source('./packages/otel/src/prometheus.ts'),
  '@gateway-errors/otel': source('./packages/otel/src/index.ts'),
};

/**
 * Setup files of every project: a test fails when an error escaped unhandled while it ran
 * (`packages/fault-servers`, home of the workspace's test infrastructure).
 */
export const setupFiles: string[] = [source('./packages/fault-servers/src/no-escapes.setup.ts')];
