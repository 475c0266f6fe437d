// One conventions object for every service of the organisation: same types, header, retry policy and logs.
import { defineConventions } from '@gateway-errors/core';

export const conventions = defineConventions({
  typeBase: 'https://errors.example.com/problems/',
  requestIdHeader: 'x-request-id',
  defaultRetryAfter: 10,
  maxRetryAfter: 300,
  proxyName: 'orders-gateway',
});

/** Where the orders service lives; the examples fail politely when nothing listens there. */
export const ORDERS_URL = process.env.ORDERS_URL ?? 'http://127.0.0.1:4010';
