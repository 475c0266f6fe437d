// A Hono gateway in front of an orders service. The app itself is Web-standard: the same
// `app.fetch` runs on Bun, Deno or Workers; server.js serves it on Node.js.
import { Hono } from 'hono';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import { gatewayErrors, notFound, requestId } from '@gateway-errors/hono';

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, ordersUrl: string }} options
 */
export function createApp({ conventions, ordersUrl }) {
  const app = new Hono();
  app.use(requestId(conventions));
  app.get('/health', (c) => c.json({ ok: true }));
  app.all('/orders/:path', async (c) => {
    const upstream = await fetchUpstream('orders', `${ordersUrl}/${encodeURIComponent(c.req.param('path'))}`, {
      method: c.req.method,
      headers: { 'x-request-id': c.get('requestId') },
      timeoutMs: 1000,
    });
    return new Response(upstream.body, { status: upstream.status, headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' } });
  });
  app.notFound(notFound(conventions));
  app.onError(gatewayErrors(conventions));
  return app;
}
