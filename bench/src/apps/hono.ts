// Hono 4 on @hono/node-server: the failing route answered five ways, and the happy path bare or with requestId().
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gatewayErrors, requestId } from '@gateway-errors/hono';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ERROR_PATH, floorHeaders, FLOOR_BODY, OK_PATH, upstreamCall } from './shared.js';
import type { RunningApp, Variant } from './shared.js';

export async function start(variant: Variant, upstreamError: unknown): Promise<RunningApp> {
  const app = new Hono();
  const callOrders = upstreamCall(upstreamError);

  if (variant === 'request-id') app.use(requestId());
  if (variant === 'request-id-no-hop') app.use(requestId({ hopStorage: false }));
  if (variant === 'id-floor') {
    app.use(async (c, next) => {
      c.header('x-request-id', randomUUID());
      await next();
    });
  }
  app.get(OK_PATH, (c) => c.json({ ok: true }));

  if (variant === 'peer') {
    // HTTPException: the route turns the failure into a 502, Hono's default onError answers it.
    app.get(ERROR_PATH, async (c) => {
      try {
        return c.json(await callOrders());
      } catch (cause) {
        throw new HTTPException(502, { message: 'Bad Gateway', cause });
      }
    });
  } else {
    app.get(ERROR_PATH, async (c) => c.json(await callOrders()));
  }

  if (variant === 'ge-quiet') app.onError(gatewayErrors({ onError: false }));
  if (variant === 'ge' || variant === 'request-id') app.onError(gatewayErrors());
  if (variant === 'request-id-no-hop') app.onError(gatewayErrors({ hopStorage: false }));
  if (variant === 'floor') app.onError((_error, c) => c.body(FLOOR_BODY, 502, floorHeaders()));
  // 'default' and 'bare': Hono's onError, which prints every error with console.error.

  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
