/**
 * The /metrics of every example gateway, on 127.0.0.1: a proxied failure counts in the upstream
 * failures counter under its service's name, every answer in http_requests_total by its status, and
 * both sit in the gateway's own registry, never in prom-client's global one.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { conventionsWithMetrics } from '@gateway-errors-examples/conventions';
import { createApp as createExpress } from '@gateway-errors-examples/express-gateway';
import { createApp as createFastify } from '@gateway-errors-examples/fastify-gateway';
import { createApp as createHono } from '@gateway-errors-examples/hono-gateway';
import { createApp as createNest } from '@gateway-errors-examples/nest-gateway';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import { serve } from '@hono/node-server';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Running {
  readonly url: string;
  close(): Promise<unknown>;
}

type Options = ReturnType<typeof conventionsWithMetrics> & { readonly upstreams: Record<string, string> };

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

const GATEWAYS: ReadonlyArray<{ readonly name: string; start(options: Options): Promise<Running> }> = [
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

let faults: Faults;

beforeAll(async () => {
  faults = await startFaults();
});

afterAll(async () => {
  await faults.close();
});

describe.each(GATEWAYS)('$name: GET /metrics', ({ start }) => {
  let gateway: Running;

  beforeAll(async () => {
    const metrics = conventionsWithMetrics({ mode: 'production', onError: false, upstreamTimeoutMs: 1000 });
    gateway = await start({ ...metrics, upstreams: { orders: faults.status, inventory: faults.refused, payments: faults.tls } });
  });

  afterAll(async () => {
    await gateway.close();
  });

  it('after a refused upstream, shows both series: the failure under its service, each answer by status', async () => {
    const statuses = [];
    for (const path of ['/inventory/sku-1', '/orders/42', '/orders/status/503', '/payments/charge-1', '/nowhere']) {
      const response = await fetch(gateway.url + path);
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([502, 200, 503, 502, 404]);

    const response = await fetch(`${gateway.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = (await response.text()).split('\n');
    const series = (name: string) => lines.filter((line) => line.startsWith(`${name}{`)).sort();
    expect(series('gateway_errors_upstream_failures_total')).toEqual([
      'gateway_errors_upstream_failures_total{code="UPSTREAM_TLS_FAILURE",status="502",upstream="payments"} 1',
      'gateway_errors_upstream_failures_total{code="UPSTREAM_UNAVAILABLE",status="503",upstream="orders"} 1',
      'gateway_errors_upstream_failures_total{code="UPSTREAM_UNREACHABLE",status="502",upstream="inventory"} 1',
    ]);
    expect(series('http_requests_total')).toEqual([
      'http_requests_total{status="200"} 1',
      'http_requests_total{status="404"} 1',
      'http_requests_total{status="502"} 2',
      'http_requests_total{status="503"} 1',
    ]);
    expect(lines).toContain('# TYPE http_requests_total counter');
  });

  it("leaves prom-client's global register alone", async () => {
    expect(await register.metrics()).not.toMatch(/gateway_errors|http_requests_total/);
  });
});
