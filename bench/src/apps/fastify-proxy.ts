// Fastify 5 + @fastify/http-proxy in front of a refused upstream: Fastify's own error handler, or gateway-errors'.
import proxy from '@fastify/http-proxy';
import { defineConventions } from '@gateway-errors/core';
import gatewayErrors, { genReqId, proxyReplyOptions } from '@gateway-errors/fastify';
import Fastify from 'fastify';
import type { RunningApp, Variant } from './shared.js';

// Logging off in every variant (Fastify's default `logger: false`): gateway-errors' request.log writes nothing either.
export async function start(variant: Variant, target: string): Promise<RunningApp> {
  let app;
  if (variant === 'default') {
    // As its README shows: @fastify/reply-from turns the refusal into its 500 error, Fastify's handler answers it.
    app = Fastify();
    await app.register(proxy, { upstream: target, prefix: '/orders' });
  } else {
    const conventions = defineConventions(variant === 'ge-quiet' ? { onError: false } : {});
    app = Fastify({ genReqId: genReqId(conventions) });
    await app.register(gatewayErrors, conventions);
    await app.register(proxy, { upstream: target, prefix: '/orders', replyOptions: proxyReplyOptions(conventions, { upstream: 'orders' }) });
  }

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, close: () => app.close() };
}
