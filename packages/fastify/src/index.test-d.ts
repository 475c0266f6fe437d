/** The public types of the Fastify plugin, checked by the compiler (`pnpm typecheck`, and vitest's typecheck mode). */
import type { Conventions, ConventionsOptions, HeadersLike } from '@gateway-errors/core';
import Fastify from 'fastify';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { describe, expectTypeOf, test } from 'vitest';
import plugin, { errorHandler, gatewayErrors, genReqId, notFoundHandler } from './index.js';
import type { GatewayErrorsOptions } from './index.js';

describe('@gateway-errors/fastify', () => {
  test('the plugin, default and named, takes the conventions as its options', () => {
    expectTypeOf(plugin).toEqualTypeOf<FastifyPluginCallback<GatewayErrorsOptions>>();
    expectTypeOf(gatewayErrors).toEqualTypeOf(plugin);
    expectTypeOf<GatewayErrorsOptions>().toEqualTypeOf<Conventions | ConventionsOptions>();
  });

  test('it registers with options, and a misspelt one does not compile', async () => {
    const app = Fastify();
    await app.register(plugin, { mode: 'production', proxyName: 'api-gateway' });
    await app.register(plugin);
    // @ts-expect-error a misspelt option
    await app.register(plugin, { mdoe: 'production' });
  });

  test('genReqId fits Fastify’s option of the same name', () => {
    expectTypeOf(genReqId).parameters.toEqualTypeOf<[conventions?: GatewayErrorsOptions]>();
    expectTypeOf(genReqId).returns.toEqualTypeOf<(req: { headers: HeadersLike }) => string>();
    Fastify({ genReqId: genReqId(), logger: true });
  });

  test('errorHandler and notFoundHandler fit setErrorHandler and setNotFoundHandler', () => {
    expectTypeOf(errorHandler).returns.toEqualTypeOf<(error: unknown, request: FastifyRequest, reply: FastifyReply) => void>();
    expectTypeOf(notFoundHandler).returns.toEqualTypeOf<(request: FastifyRequest, reply: FastifyReply) => void>();
    const app = Fastify();
    app.setErrorHandler(errorHandler());
    app.setNotFoundHandler(notFoundHandler({ mode: 'production' }));
  });
});
