// An Express gateway in front of three services, wired the way a real service would be.
import express from 'express';
import { SERVICES } from '@gateway-errors-examples/conventions';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import { gatewayErrors, notFound, requestId } from '@gateway-errors/express';

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, upstreams: Record<string, string>, timeoutMs?: number }} options
 */
export function createApp({ conventions, upstreams, timeoutMs = 1000 }) {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId(conventions));
  app.get('/health', (_req, res) => void res.json({ ok: true }));
  for (const service of SERVICES) {
    app.all(`/${service}/:path`, async (req, res) => {
      const upstream = await fetchUpstream(service, `${upstreams[service]}/${encodeURIComponent(req.params.path)}`, {
        method: req.method,
        headers: { 'x-request-id': res.locals.requestId },
        timeoutMs,
      });
      res.status(upstream.status).type(upstream.headers.get('content-type') ?? 'application/json').send(await upstream.text());
    });
  }
  app.use(notFound(conventions));
  app.use(gatewayErrors(conventions));
  return app;
}
