// Hono 4 + `proxy()` from hono/proxy on @hono/node-server in front of a refused upstream: Hono's default onError,
// or proxyUpstream() with gatewayErrors().
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineConventions } from '@gateway-errors/core';
import { gatewayErrors, proxyUpstream } from '@gateway-errors/hono';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { proxy } from 'hono/proxy';
import type { RunningApp, Variant } from './shared.js';

export async function start(variant: Variant, target: string): Promise<RunningApp> {
  const app = new Hono();

  if (variant === 'default') {
    // As Hono's docs show; fetch's TypeError goes to the default onError: a 500 and console.error of the error.
    app.all('/orders/*', (c) => proxy(`${target}${c.req.path}`, { raw: c.req.raw }));
  } else {
    const conventions = defineConventions(variant === 'ge-quiet' ? { onError: false } : {});
    app.all('/orders/*', (c) => proxyUpstream(c, `${target}${c.req.path}`, { upstream: 'orders', raw: c.req.raw }));
    app.onError(gatewayErrors(conventions));
  }

  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
