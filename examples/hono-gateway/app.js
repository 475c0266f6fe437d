// A Hono gateway in front of three services: `proxy()` from hono/proxy forwards `/<service>/…` through
// proxyUpstream(), which adds the deadline and the request ID and throws every failure to onError.
// The app is Web-standard: the same `app.fetch` runs on Bun, Deno or Workers; server.js serves it on Node.js.
// GET /metrics serves the registry: the conventions count upstream failures in it, and every answer counts by status.
import { Hono } from 'hono';
import { requestsTotal, SERVICES } from '@gateway-errors-examples/conventions';
import { gatewayErrors, notFound, proxyUpstream, requestId } from '@gateway-errors/hono';

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, registry: import('prom-client').Registry, upstreams: Record<string, string>, timeoutMs?: number }} options
 *   `conventions` and `registry`: a pair from conventionsWithMetrics();
 *   `timeoutMs`: the deadline of a proxied call (default: the conventions' `upstreamTimeoutMs`)
 */
export function createApp({ conventions, registry, upstreams, timeoutMs = conventions.upstreamTimeoutMs }) {
  const requests = requestsTotal(registry);
  const app = new Hono();
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  app.use(async (c, next) => {
    await next();
    requests.inc({ status: c.res.status });
  });
  app.use(requestId(conventions));
  app.get('/health', (c) => c.json({ ok: true }));
  for (const service of SERVICES) {
    app.all(`/${service}/*`, (c) => {
      const url = new URL(c.req.url);
      const target = `${upstreams[service]}${url.pathname.slice(service.length + 1)}${url.search}`;
      return proxyUpstream(c, target, { upstream: service, timeoutMs, raw: c.req.raw });
    });
  }
  app.notFound(notFound(conventions));
  app.onError(gatewayErrors(conventions));
  return app;
}
