/** The public types of the Express adapter, checked by the compiler (`pnpm typecheck`, and vitest's typecheck mode). */
import type { Conventions, ConventionsOptions } from '@gateway-errors/core';
import { defineConventions } from '@gateway-errors/core';
import express from 'express';
import { createProxyMiddleware as createProxyMiddleware3 } from 'hpm3';
import { createProxyMiddleware as createProxyMiddleware4 } from 'hpm4';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { describe, expectTypeOf, test } from 'vitest';
import { gatewayErrors, notFound, proxyProblems, requestId } from './index.js';
import type { Conventions as ReExported, ConventionsOptions as ReExportedOptions } from './index.js';

describe('@gateway-errors/express', () => {
  test('requestId() and notFound() are middleware; gatewayErrors() is an error handler', () => {
    expectTypeOf(requestId).returns.toEqualTypeOf<RequestHandler>();
    expectTypeOf(notFound).returns.toEqualTypeOf<RequestHandler>();
    expectTypeOf(gatewayErrors).returns.toEqualTypeOf<ErrorRequestHandler>();
    // Not a plain RequestHandler: Express tells error handlers by their four parameters.
    expectTypeOf(gatewayErrors).returns.not.toEqualTypeOf<RequestHandler>();
  });

  test('each takes the conventions, raw options or nothing', () => {
    for (const factory of [requestId, gatewayErrors, notFound]) {
      expectTypeOf(factory).parameters.toEqualTypeOf<[conventions?: Conventions | ConventionsOptions]>();
      expectTypeOf(factory).toBeCallableWith();
      expectTypeOf(factory).toBeCallableWith(defineConventions({ mode: 'production' }));
      expectTypeOf(factory).toBeCallableWith({ typeBase: 'https://errors.example.com/' });
    }
    // @ts-expect-error a misspelt option
    gatewayErrors({ mdoe: 'production' });
    expectTypeOf<ReExported>().toEqualTypeOf<Conventions>();
    expectTypeOf<ReExportedOptions>().toEqualTypeOf<ConventionsOptions>();
  });

  test('they mount with app.use, the error handler last', () => {
    const app = express();
    app.use(requestId());
    app.use(notFound());
    app.use(gatewayErrors());
    app.use('/api', express.Router().use(gatewayErrors()));
  });

  test("proxyProblems() leaves createProxyMiddleware()'s request and response types alone, with http-proxy-middleware 3 and 4", () => {
    const app = express();
    app.use('/orders', createProxyMiddleware3({ target: 'http://127.0.0.1:4010', ...proxyProblems(undefined, { upstream: 'orders' }) }));
    app.use('/stock', createProxyMiddleware4({ target: 'http://127.0.0.1:4011', ...proxyProblems(undefined, { upstream: 'stock' }) }));
  });
});
