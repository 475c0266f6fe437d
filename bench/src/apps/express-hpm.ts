// Express 5 + http-proxy-middleware 3 in front of a refused upstream: the proxy's own error page, or proxyProblems().
import type { AddressInfo } from 'node:net';
import { defineConventions } from '@gateway-errors/core';
import { gatewayErrors, proxyProblems } from '@gateway-errors/express';
import express from 'express';
import type { Request, Response } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { RunningApp, Variant } from './shared.js';

export async function start(variant: Variant, target: string): Promise<RunningApp> {
  const app = express();
  app.disable('x-powered-by');

  if (variant === 'default') {
    // As its README shows. Its default logger is a no-op: the error page (504 for a refused connection) is all it does.
    app.use('/orders', createProxyMiddleware<Request, Response>({ target, changeOrigin: true }));
  } else {
    const conventions = defineConventions(variant === 'ge-quiet' ? { onError: false } : {});
    app.use('/orders', createProxyMiddleware<Request, Response>({ target, changeOrigin: true, ...proxyProblems(conventions, { upstream: 'orders' }) }));
    app.use(gatewayErrors(conventions));
  }

  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
