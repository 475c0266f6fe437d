// An Express gateway in front of three services: http-proxy-middleware forwards `/<service>/…`, and
// proxyProblems() answers every proxy failure with the same problem a route would get from gatewayErrors().
// GET /metrics serves the registry: the conventions count upstream failures in it, and every answer counts by status.
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { requestsTotal, SERVICES } from '@gateway-errors-examples/conventions';
import { gatewayErrors, notFound, proxyProblems, requestId } from '@gateway-errors/express';

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, registry: import('prom-client').Registry, upstreams: Record<string, string>, timeoutMs?: number }} options
 *   `conventions` and `registry`: a pair from conventionsWithMetrics();
 *   `timeoutMs`: the deadline of a proxied call (default: the conventions' `upstreamTimeoutMs`)
 */
export function createApp({ conventions, registry, upstreams, timeoutMs = conventions.upstreamTimeoutMs }) {
  const requests = requestsTotal(registry);
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => void res.type(registry.contentType).send(await registry.metrics()));
  app.use((_req, res, next) => {
    res.on('finish', () => requests.inc({ status: res.statusCode }));
    next();
  });
  app.use(requestId(conventions));
  app.get('/health', (_req, res) => void res.json({ ok: true }));
  for (const service of SERVICES) {
    app.use(
      `/${service}`,
      createProxyMiddleware({
        target: upstreams[service],
        changeOrigin: true,
        // The upstream's own 5xx and 429 become problems too: its body (a stack, a SQL error) never reaches the client.
        ...proxyProblems(conventions, { upstream: service, timeoutMs, upstreamErrors: 'problem' }),
      }),
    );
  }
  app.use(notFound(conventions));
  app.use(gatewayErrors(conventions));
  return app;
}
