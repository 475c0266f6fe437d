// An Express gateway in front of three services: http-proxy-middleware forwards `/<service>/…`, and
// proxyProblems() answers every proxy failure with the same problem a route would get from gatewayErrors().
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { SERVICES } from '@gateway-errors-examples/conventions';
import { gatewayErrors, notFound, proxyProblems, requestId } from '@gateway-errors/express';

/**
 * @param {{ conventions: import('@gateway-errors/core').Conventions, upstreams: Record<string, string>, timeoutMs?: number }} options
 *   `timeoutMs`: the deadline of a proxied call (default: the conventions' `upstreamTimeoutMs`)
 */
export function createApp({ conventions, upstreams, timeoutMs = conventions.upstreamTimeoutMs }) {
  const app = express();
  app.disable('x-powered-by');
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
