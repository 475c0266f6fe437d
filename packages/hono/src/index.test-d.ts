/** The public types of the Hono adapter, checked by the compiler (`pnpm typecheck`, and vitest's typecheck mode). */
import type { Conventions, ConventionsOptions } from '@gateway-errors/core';
import { Hono } from 'hono';
import type { ErrorHandler, MiddlewareHandler, NotFoundHandler } from 'hono';
import { describe, expectTypeOf, test } from 'vitest';
import { gatewayErrors, notFound, proxyUpstream, requestHop, requestId } from './index.js';
import type { Hop, ProxyUpstreamInit, RequestIdVariables } from './index.js';

describe('@gateway-errors/hono', () => {
  test('requestId() is middleware that sets the requestId variable; the others are the app handlers', () => {
    expectTypeOf<RequestIdVariables>().toEqualTypeOf<{ requestId: string }>();
    expectTypeOf(requestId).returns.toEqualTypeOf<MiddlewareHandler<{ Variables: RequestIdVariables }>>();
    expectTypeOf(gatewayErrors).returns.toEqualTypeOf<ErrorHandler>();
    expectTypeOf(notFound).returns.toEqualTypeOf<NotFoundHandler>();
  });

  test('each takes the conventions, raw options or nothing', () => {
    for (const factory of [requestId, gatewayErrors, notFound]) {
      expectTypeOf(factory).parameters.toEqualTypeOf<[conventions?: Conventions | ConventionsOptions]>();
    }
    // @ts-expect-error a misspelt option
    requestId({ mdoe: 'production' });
  });

  test('an app that uses them reads the request ID as a string', () => {
    const app = new Hono<{ Variables: RequestIdVariables }>();
    app.use(requestId());
    app.onError(gatewayErrors());
    app.notFound(notFound());
    app.get('/', (c) => {
      expectTypeOf(c.get('requestId')).toEqualTypeOf<string>();
      return c.text('ok');
    });
    // Without declaring the variables: the middleware brings them.
    new Hono().use(requestId()).get('/', (c) => {
      expectTypeOf(c.get('requestId')).toEqualTypeOf<string>();
      return c.text('ok');
    });
  });

  test('proxyUpstream() takes the context, a URL and proxy() options with an upstream name; requestHop() gives the hop', () => {
    new Hono().get('/', (c) => {
      expectTypeOf(proxyUpstream(c, 'http://orders.internal/x', { upstream: 'orders', timeoutMs: 2000, raw: c.req.raw })).toEqualTypeOf<Promise<Response>>();
      expectTypeOf(requestHop(c)).toEqualTypeOf<Hop>();
      // @ts-expect-error the upstream's name is required
      void proxyUpstream(c, 'http://orders.internal/x', {});
      return c.text('ok');
    });
    expectTypeOf<ProxyUpstreamInit['upstream']>().toEqualTypeOf<string>();
    expectTypeOf<ProxyUpstreamInit['headers']>().not.toBeNever();
  });
});
