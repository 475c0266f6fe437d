// One conventions object for every service of the organisation: same types, header, retry policy and logs.
import { defineConventions } from '@gateway-errors/core';

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

export const conventions = organisationConventions();

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
