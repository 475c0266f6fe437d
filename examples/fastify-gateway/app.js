// A Fastify gateway in front of three services: @fastify/http-proxy forwards `/<service>/…`, and
// proxyReplyOptions() hands it the deadline, the request ID to forward, and the core's errors for
// upstream failures, which the plugin's error handler answers.
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';
import { SERVICES } from '@gateway-errors-examples/conventions';
import gatewayErrors, { genReqId, notFoundHandler, proxyReplyOptions } from '@gateway-errors/fastify';

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, upstreams: Record<string, string>, timeoutMs?: number, logger?: boolean }} options
 *   `timeoutMs`: the deadline of a proxied call (default: the conventions' `upstreamTimeoutMs`)
 */
export async function createApp({ conventions, upstreams, timeoutMs = conventions.upstreamTimeoutMs, logger = false }) {
  const app = Fastify({ logger, genReqId: genReqId(conventions) });
  await app.register(gatewayErrors, conventions);
  app.setNotFoundHandler(notFoundHandler(conventions));
  app.get('/health', async () => ({ ok: true }));
  for (const service of SERVICES) {
    await app.register(proxy, {
      upstream: upstreams[service],
      prefix: `/${service}`,
      replyOptions: proxyReplyOptions(conventions, { upstream: service, timeoutMs }),
      // @fastify/reply-from turns certificate checks off unless told otherwise.
      undici: { connect: { rejectUnauthorized: true } },
    });
  }
  return app;
}
