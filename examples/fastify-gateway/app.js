// A Fastify gateway in front of three services: @fastify/http-proxy forwards `/<service>/…`, and
// proxyReplyOptions() hands it the deadline, the request ID to forward, and the core's errors for
// upstream failures, which the plugin's error handler answers.
// GET /metrics serves the registry: the conventions count upstream failures in it, and every answer counts by status.
// GET /openapi.json serves the OpenAPI 3.1 document (@fastify/swagger) of the proxied routes, with the 502/503/504 problems they can answer.
import Fastify, { LogController } from 'fastify';
import proxy from '@fastify/http-proxy';
import swagger from '@fastify/swagger';
import { requestsTotal, SERVICES } from '@gateway-errors-examples/conventions';
import gatewayErrors, { genReqId, notFoundHandler, problemResponseSchemas, proxyReplyOptions } from '@gateway-errors/fastify';

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, registry: import('prom-client').Registry, upstreams: Record<string, string>, timeoutMs?: number, logger?: boolean }} options
 *   `conventions` and `registry`: a pair from conventionsWithMetrics();
 *   `timeoutMs`: the deadline of a proxied call (default: the conventions' `upstreamTimeoutMs`)
 */
export async function createApp({ conventions, registry, upstreams, timeoutMs = conventions.upstreamTimeoutMs, logger = false }) {
  const requests = requestsTotal(registry);
  const app = Fastify({ logger, genReqId: genReqId(conventions), logController: new LogController({ requestIdLogLabel: 'requestId' }) });
  app.addHook('onResponse', async (_request, reply) => void requests.inc({ status: reply.statusCode }));
  // Before any route: it documents the routes registered after it.
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'fastify-gateway', version: '1.0.0' } } });
  await app.register(gatewayErrors, conventions);
  app.setNotFoundHandler(notFoundHandler(conventions));
  app.get('/health', async () => ({ ok: true }));
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  for (const service of SERVICES) {
    // @fastify/http-proxy takes no schema for its routes: a hook in its own scope documents each of them.
    await app.register(async function documented(scope) {
      scope.addHook('onRoute', (route) => {
        route.schema = {
          summary: `Proxied to the ${service} service`,
          tags: [service],
          response: {
            default: { description: `The ${service} service's own answer, as it is: its 5xx and 429 become the problems below.`, content: { '*/*': { schema: {} } } },
            ...problemResponseSchemas(conventions),
          },
        };
      });
      await scope.register(proxy, {
        upstream: upstreams[service],
        prefix: `/${service}`,
        replyOptions: proxyReplyOptions(conventions, { upstream: service, timeoutMs }),
        // @fastify/reply-from turns certificate checks off unless told otherwise.
        undici: { connect: { rejectUnauthorized: true } },
      });
    });
  }
  return app;
}
