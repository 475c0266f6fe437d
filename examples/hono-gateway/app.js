// A Hono gateway in front of three services. The app itself is Web-standard: the same
// `app.fetch` runs on Bun, Deno or Workers; server.js serves it on Node.js.
import { Hono } from 'hono';
import { SERVICES } from '@gateway-errors-examples/conventions';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import { gatewayErrors, notFound, requestId } from '@gateway-errors/hono';

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, upstreams: Record<string, string>, timeoutMs?: number }} options
 */
export function createApp({ conventions, upstreams, timeoutMs = 1000 }) {
  const app = new Hono();
  app.use(requestId(conventions));
  app.get('/health', (c) => c.json({ ok: true }));
  for (const service of SERVICES) {
    app.all(`/${service}/:path`, async (c) => {
      const upstream = await fetchUpstream(service, `${upstreams[service]}/${encodeURIComponent(c.req.param('path'))}`, {
        method: c.req.method,
        headers: { 'x-request-id': c.get('requestId') },
        timeoutMs,
      });
      const body = await upstream.text();
      return c.body(body, upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    });
  }
  app.notFound(notFound(conventions));
  app.onError(gatewayErrors(conventions));
  return app;
}
