// An Express gateway in front of an orders service, wired the way a real service would be.
import express from 'express';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import { gatewayErrors, notFound, requestId } from '@gateway-errors/express';

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, ordersUrl: string }} options
 */
export function createApp({ conventions, ordersUrl }) {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId(conventions));
  app.get('/health', (_req, res) => void res.json({ ok: true }));
  app.all('/orders/:path', async (req, res) => {
    const upstream = await fetchUpstream('orders', `${ordersUrl}/${encodeURIComponent(req.params.path)}`, {
      method: req.method,
      headers: { 'x-request-id': res.locals.requestId },
      timeoutMs: 1000,
    });
    res.status(upstream.status).type(upstream.headers.get('content-type') ?? 'application/json').send(await upstream.text());
  });
  app.use(notFound(conventions));
  app.use(gatewayErrors(conventions));
  return app;
}
