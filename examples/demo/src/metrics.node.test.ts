/**
 * The /metrics of every example gateway, on 127.0.0.1: a proxied failure counts in the upstream
 * failures counter under its service's name, every answer in http_requests_total by its status, and
 * both sit in the gateway's own registry, never in prom-client's global one.
 */
import { conventionsWithMetrics } from '@gateway-errors-examples/conventions';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAYS } from './gateways.js';
import type { Running } from './gateways.js';

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
