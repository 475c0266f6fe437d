// A Fastify gateway in front of an orders service, wired the way a real service would be.
import Fastify from 'fastify';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import gatewayErrors, { genReqId, notFoundHandler } from '@gateway-errors/fastify';

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, ordersUrl: string, logger?: boolean }} options
 */
export async function createApp({ conventions, ordersUrl, logger = false }) {
  const app = Fastify({ logger, genReqId: genReqId(conventions) });
  await app.register(gatewayErrors, conventions);
  app.setNotFoundHandler(notFoundHandler(conventions));
  app.get('/health', async () => ({ ok: true }));
  app.route({
    method: ['GET', 'POST', 'PUT', 'DELETE'],
    url: '/orders/:path',
    handler: async (request, reply) => {
      const upstream = await fetchUpstream('orders', `${ordersUrl}/${encodeURIComponent(request.params.path)}`, {
        method: request.method,
        headers: { 'x-request-id': request.id },
        timeoutMs: 1000,
      });
      return reply
        .code(upstream.status)
        .type(upstream.headers.get('content-type') ?? 'application/json')
        .send(await upstream.text());
    },
  });
  return app;
}
