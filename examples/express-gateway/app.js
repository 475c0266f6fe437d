// An Express gateway in front of three services: http-proxy-middleware forwards `/<service>/…`, and
// proxyProblems() answers every proxy failure with the same problem a route would get from gatewayErrors().
// GET /metrics serves the registry: the conventions count upstream failures in it, and every answer counts by status.
// GET /openapi.json documents the gateway, the problems it answers with included.
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { requestsTotal, SERVICES } from '@gateway-errors-examples/conventions';
import { gatewayErrors, notFound, problemResponses, problemSchema, proxyProblems, requestId } from '@gateway-errors/express';

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
  const document = openApiDocument(conventions);
  app.get('/openapi.json', (_req, res) => void res.json(document));
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

/**
 * The gateway's OpenAPI 3.1 document: each service's routes, answered by the service, or by a problem
 * when the service fails (502, 503, 504).
 * @param {import('@gateway-errors/core').Conventions} conventions
 */
export function openApiDocument(conventions) {
  const failures = problemResponses(conventions, { schemaRef: '#/components/schemas/Problem' });
  const paths = Object.fromEntries(
    SERVICES.map((service) => [
      `/${service}/{path}`,
      {
        parameters: [{ name: 'path', in: 'path', required: true, description: `The path on ${service}.`, schema: { type: 'string' } }],
        get: {
          operationId: `get-${service}`,
          summary: `Forwarded to ${service}`,
          responses: { default: { description: `What ${service} answers.` }, ...failures },
        },
        post: {
          operationId: `post-${service}`,
          summary: `Forwarded to ${service}`,
          responses: { default: { description: `What ${service} answers.` }, ...failures },
        },
      },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: { title: 'Shop gateway (Express)', version: '1.0.0' },
    paths,
    components: { schemas: { Problem: problemSchema('3.1') } },
  };
}
