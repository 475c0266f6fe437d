// A Fastify gateway in front of three services, wired the way a real service would be.
import Fastify from 'fastify';
import { SERVICES } from '@gateway-errors-examples/conventions';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import gatewayErrors, { genReqId, notFoundHandler } from '@gateway-errors/fastify';

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, upstreams: Record<string, string>, timeoutMs?: number, logger?: boolean }} options
 */
export async function createApp({ conventions, upstreams, timeoutMs = 1000, logger = false }) {
  const app = Fastify({ logger, genReqId: genReqId(conventions) });
  await app.register(gatewayErrors, conventions);
  app.setNotFoundHandler(notFoundHandler(conventions));
  app.get('/health', async () => ({ ok: true }));
  for (const service of SERVICES) {
    app.all(`/${service}/:path`, async (request, reply) => {
      const upstream = await fetchUpstream(service, `${upstreams[service]}/${encodeURIComponent(request.params.path)}`, {
        method: request.method,
        headers: { 'x-request-id': request.id },
        timeoutMs,
      });
      return reply
        .code(upstream.status)
        .type(upstream.headers.get('content-type') ?? 'application/json')
        .send(await upstream.text());
    });
  }
  return app;
}
