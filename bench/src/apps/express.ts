// Express 5: the failing route answered five ways, and the happy path bare or with requestId().
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { gatewayErrors, requestId } from '@gateway-errors/express';
import express from 'express';
import type { ErrorRequestHandler } from 'express';
import createError from 'http-errors';
import { ERROR_PATH, floorHeaders, FLOOR_BODY, OK_PATH, upstreamCall } from './shared.js';
import type { RunningApp, Variant } from './shared.js';

export async function start(variant: Variant, upstreamError: unknown): Promise<RunningApp> {
  const app = express();
  app.disable('x-powered-by');
  const callOrders = upstreamCall(upstreamError);

  if (variant === 'request-id') app.use(requestId());
  if (variant === 'request-id-no-hop') app.use(requestId({ hopStorage: false }));
  if (variant === 'id-floor') {
    app.use((_req, res, next) => {
      res.setHeader('x-request-id', randomUUID());
      next();
    });
  }
  app.get(OK_PATH, (_req, res) => void res.json({ ok: true }));

  if (variant === 'peer') {
    // http-errors: the route turns the failure into a 502, a hand-written handler answers it.
    app.get(ERROR_PATH, async (_req, res, next) => {
      try {
        res.json(await callOrders());
      } catch {
        next(createError(502));
      }
    });
    // Express tells error handlers by their four parameters.
    // eslint-disable-next-line max-params
    const httpErrors: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
      const known = createError.isHttpError(error) ? error : undefined;
      const status = known?.status ?? 500;
      res.status(status).json({ status, message: known?.expose === true ? known.message : 'Internal Server Error' });
    };
    app.use(httpErrors);
  } else {
    app.get(ERROR_PATH, async (_req, res) => void res.json(await callOrders()));
  }

  if (variant === 'ge-quiet') app.use(gatewayErrors({ onError: false }));
  if (variant === 'ge' || variant === 'request-id') app.use(gatewayErrors());
  if (variant === 'request-id-no-hop') app.use(gatewayErrors({ hopStorage: false }));
  if (variant === 'floor') {
    // eslint-disable-next-line max-params
    const floor: ErrorRequestHandler = (_error, _req, res, _next) => {
      res.writeHead(502, floorHeaders()).end(FLOOR_BODY);
    };
    app.use(floor);
  }
  // 'default' and 'bare': Express's finalhandler, which prints every error's stack on stderr.

  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
