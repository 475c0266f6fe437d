/**
 * Every example gateway, started on 127.0.0.1 with the given conventions, registry and upstreams:
 * what the example-gateway suites run against.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { conventionsWithMetrics } from '@gateway-errors-examples/conventions';
import { createApp as createExpress } from '@gateway-errors-examples/express-gateway';
import { createApp as createFastify } from '@gateway-errors-examples/fastify-gateway';
import { createApp as createHono } from '@gateway-errors-examples/hono-gateway';
import { createApp as createNest } from '@gateway-errors-examples/nest-gateway';
import { serve } from '@hono/node-server';

export interface Running {
  readonly url: string;
  close(): Promise<unknown>;
}

export type Options = ReturnType<typeof conventionsWithMetrics> & { readonly upstreams: Record<string, string> };

async function listening(server: Server): Promise<Running> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

export const GATEWAYS: ReadonlyArray<{ readonly name: string; start(options: Options): Promise<Running> }> = [
  { name: 'express-gateway', start: (options) => listening(createExpress(options).listen(0, '127.0.0.1')) },
  {
    name: 'fastify-gateway',
    start: async (options) => {
      const app = await createFastify(options);
      await app.listen({ host: '127.0.0.1', port: 0 });
      return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
    },
  },
  { name: 'hono-gateway', start: (options) => listening(serve({ fetch: createHono(options).fetch, hostname: '127.0.0.1', port: 0 }) as Server) },
  ...(['express', 'fastify'] as const).map((platform) => ({
    name: `nest-gateway (platform-${platform})`,
    start: async (options: Options) => {
      const app = await createNest({ ...options, platform, logger: false });
      await app.listen(0, '127.0.0.1');
      const running = await listening(app.getHttpServer() as Server);
      return { url: running.url, close: () => app.close() };
    },
  })),
];
