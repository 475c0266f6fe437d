// A Hono gateway in front of three services: `proxy()` from hono/proxy forwards `/<service>/…` through
// proxyUpstream(), which adds the deadline and the request ID and throws every failure to onError.
// The app is Web-standard: the same `app.fetch` runs on Bun, Deno or Workers; server.js serves it on Node.js.
// GET /metrics serves the registry: the conventions count upstream failures in it, and every answer counts by status.
// GET /openapi.json serves the OpenAPI 3.1 document of the proxied routes, with the 502/503/504 problems they can answer.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { requestsTotal, SERVICES } from '@gateway-errors-examples/conventions';
import { gatewayErrors, notFound, problemResponses, problemSchema, proxyUpstream, requestId } from '@gateway-errors/hono';

// app.all() forwards every method; the document lists these.
const METHODS = /** @type {const} */ (['get', 'post', 'put', 'patch', 'delete']);

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, registry: import('prom-client').Registry, upstreams: Record<string, string>, timeoutMs?: number }} options
 *   `conventions` and `registry`: a pair from conventionsWithMetrics();
 *   `timeoutMs`: the deadline of a proxied call (default: the conventions' `upstreamTimeoutMs`)
 */
export function createApp({ conventions, registry, upstreams, timeoutMs = conventions.upstreamTimeoutMs }) {
  const requests = requestsTotal(registry);
  // OpenAPIHono is a Hono with a registry of routes to document; the proxy routes stay plain handlers.
  const app = new OpenAPIHono();
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  app.use(async (c, next) => {
    await next();
    requests.inc({ status: c.res.status });
  });
  app.use(requestId(conventions));
  app.get('/health', (c) => c.json({ ok: true }));
  // The problem schema once, as a component: every failure response of the document points at it.
  app.openAPIRegistry.registerComponent('schemas', 'Problem', problemSchema());
  const failures = { schemaRef: '#/components/schemas/Problem' };
  for (const service of SERVICES) {
    app.all(`/${service}/*`, (c) => {
      const url = new URL(c.req.url);
      const target = `${upstreams[service]}${url.pathname.slice(service.length + 1)}${url.search}`;
      return proxyUpstream(c, target, { upstream: service, timeoutMs, raw: c.req.raw });
    });
    // registerPath() only describes the route: the handler above answers it.
    for (const method of METHODS) {
      app.openAPIRegistry.registerPath({
        method,
        path: `/${service}/{path}`,
        summary: `Forwarded to ${service}`,
        request: { params: z.object({ path: z.string().openapi({ description: `The path on ${service}; it may hold slashes.` }) }) },
        responses: { default: { description: `The answer of ${service}, passed through.` }, ...problemResponses(conventions, failures) },
      });
    }
  }
  app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 'hono-gateway', version: '1.0.0' } });
  app.notFound(notFound(conventions));
  app.onError(gatewayErrors(conventions));
  return app;
}
