// A Fastify gateway in front of three services: @fastify/http-proxy forwards `/<service>/…`, and
// proxyReplyOptions() hands it the deadline, the request ID to forward, and the core's errors for
// upstream failures, which the plugin's error handler answers.
// GET /metrics serves the registry: the conventions count upstream failures in it, and every answer counts by status.
import Fastify, { LogController } from 'fastify';
import proxy from '@fastify/http-proxy';
import { requestsTotal, SERVICES } from '@gateway-errors-examples/conventions';
import gatewayErrors, { genReqId, notFoundHandler, proxyReplyOptions } from '@gateway-errors/fastify';

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, registry: import('prom-client').Registry, upstreams: Record<string, string>, timeoutMs?: number, logger?: boolean }} options
 *   `conventions` and `registry`: a pair from conventionsWithMetrics();
 *   `timeoutMs`: the deadline of a proxied call (default: the conventions' `upstreamTimeoutMs`)
 */
export async function createApp({ conventions, registry, upstreams, timeoutMs = conventions.upstreamTimeoutMs, logger = false }) {
  const requests = requestsTotal(registry);
  const app = Fastify({ logger, genReqId: genReqId(conventions), logController: new LogController({ requestIdLogLabel: 'requestId' }) });
  app.addHook('onResponse', async (_request, reply) => void requests.inc({ status: reply.statusCode }));
  await app.register(gatewayErrors, conventions);
  app.setNotFoundHandler(notFoundHandler(conventions));
  app.get('/health', async () => ({ ok: true }));
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
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
