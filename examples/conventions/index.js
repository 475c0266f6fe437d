// One conventions object for every service of the organisation: same types, header, retry policy and logs,
// and the same metrics on every gateway's /metrics.
import { defineConventions } from '@gateway-errors/core';
import { prometheus } from '@gateway-errors/otel/prometheus';
import { Counter, Registry } from 'prom-client';

/** @param {Partial<import('@gateway-errors/core').ConventionsOptions>} [overrides] */
export function organisationConventions(overrides = {}) {
  return defineConventions({
    typeBase: 'https://errors.example.com/problems/',
    requestIdHeader: 'x-request-id',
    defaultRetryAfter: 10,
    maxRetryAfter: 300,
    proxyName: 'shop-gateway',
    ...overrides,
  });
}

/**
 * Where the services behind the gateways live. The examples fail politely (502) when nothing listens there.
 * @type {{ orders: string, inventory: string, payments: string }}
 */
export const UPSTREAMS = {
  orders: process.env.ORDERS_URL ?? 'http://127.0.0.1:4010',
  inventory: process.env.INVENTORY_URL ?? 'http://127.0.0.1:4011',
  payments: process.env.PAYMENTS_URL ?? 'https://127.0.0.1:4012',
};

/** The services every example gateway forwards to, by path prefix. */
export const SERVICES = /** @type {const} */ (['orders', 'inventory', 'payments']);

/**
 * The conventions of one gateway and the prom-client registry its `/metrics` serves: a registry of its own
 * (never prom-client's global one), in which the conventions' observer counts every upstream failure they
 * answer in `gateway_errors_upstream_failures_total{code,status,upstream}`. Make one pair per app.
 * @param {Partial<import('@gateway-errors/core').ConventionsOptions>} [overrides]
 */
export function conventionsWithMetrics(overrides = {}) {
  const registry = new Registry();
  const failures = prometheus({ registry, upstreams: [...SERVICES] });
  const conventions = organisationConventions({ ...overrides, observers: [...(overrides.observers ?? []), failures] });
  return { conventions, registry };
}

/**
 * `http_requests_total{status}` in the registry: each answer of the gateway counted once, by its status.
 * The failures counter divided by it is the error ratio the alert rules of `@gateway-errors/otel` watch.
 * @param {Registry} registry
 */
export function requestsTotal(registry) {
  return new Counter({ name: 'http_requests_total', help: 'Answers of this gateway, by status.', labelNames: ['status'], registers: [registry] });
}
