import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Readable } from 'node:stream';
import { gatewayErrors, notFound, requestId } from '@gateway-errors/express';
import fastifyGatewayErrors, { genReqId, notFoundHandler } from '@gateway-errors/fastify';
import express5 from 'express';
import type { NextFunction, Request, Response } from 'express';
import express4 from 'express4';
import Fastify, { LogController } from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { serve } from '@hono/node-server';
import { gatewayErrors as honoErrors, notFound as honoNotFound, requestId as honoRequestId } from '@gateway-errors/hono';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { validator } from 'hono/validator';
import createHttpError from 'http-errors';
import { connectionsOf } from './connections.js';
import { nestTargets } from './nest-target.js';
import { actions, failingBody, HEADERS_BEFORE_FAILURE, ORDER_BODY_LIMIT } from './scenarios.js';
import { writeBody } from './target.js';
import type { Target } from './target.js';

type ExpressModule = typeof express5;

function expressTarget(name: string, express: ExpressModule, { nativeAsync }: { nativeAsync: boolean }): Target {
  return {
    name,
    ownHeaders: ['x-powered-by'],
    async start(conventions, faults, { actions: extra, body = failingBody } = {}) {
      const app = express();
      app.use(requestId(conventions));
      app.post('/orders', express.json({ limit: ORDER_BODY_LIMIT }), (req: Request, res: Response, next: NextFunction) => {
        if (!req.is('application/json')) return next(createHttpError(415, 'Send the order as application/json.'));
        const body = req.body as { name?: unknown } | undefined;
        if (typeof body?.name !== 'string') {
          return next(createHttpError(400, 'The order is invalid.', { errors: [{ pointer: '#/name', detail: 'must be a string' }] }));
        }
        res.status(201).json({ name: body.name });
      });
      // `/stale/:name` sets the headers of a body it will abandon, then fails as `/s/:name` does.
      app.all('/stale/:name', (_req: Request, res: Response, next: NextFunction) => {
        for (const [header, value] of Object.entries(HEADERS_BEFORE_FAILURE)) res.setHeader(header, value);
        next();
      });
      app.all(['/s/:name', '/stale/:name'], (req: Request, res: Response, next: NextFunction) => {
        const name = String(req.params['name']);
        const action = extra?.get(name) ?? actions.get(name);
        if (action === undefined) return next();
        const done = action(faults).then(() => void res.json({ ok: true }));
        if (nativeAsync) return done;
        // Express 4 does not await handlers: pass rejections on as Express 5 does.
        done.catch((error: unknown) => next(error ?? new Error('Rejected promise')));
        return undefined;
      });
      app.get('/health', (_req: Request, res: Response) => void res.json({ ok: true }));
      // Express streams by writing onto the response: both routes are one.
      app.get(['/stream', '/started'], (_req: Request, res: Response, next: NextFunction) => {
        const done = writeBody(res, body(faults));
        if (nativeAsync) return done;
        done.catch((error: unknown) => next(error ?? new Error('Rejected promise')));
        return undefined;
      });
      app.use(notFound(conventions));
      app.use(gatewayErrors(conventions));
      const server = await new Promise<Server>((resolve) => {
        const listening: Server = app.listen(0, '127.0.0.1', () => resolve(listening));
      });
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        connections: connectionsOf(server),
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    },
  };
}

/**
 * Fastify as its adapter's README sets it up: `genReqId` and `requestIdLogLabel: 'requestId'`, so
 * `request.log` names the ID as every other adapter's log does. With `requestIdLogLabel` left out,
 * Fastify's default label, `reqId`.
 */
function fastifyTarget(name: string, { requestIdLogLabel }: { requestIdLogLabel?: string }): Target {
  return {
    name,
    ownHeaders: [],
    async start(conventions, faults, { logs = false, actions: extra, body = failingBody } = {}) {
      const app = Fastify({
        genReqId: genReqId(conventions),
        ...(requestIdLogLabel === undefined ? {} : { logController: new LogController({ requestIdLogLabel }) }),
        bodyLimit: ORDER_BODY_LIMIT,
        // pino's own destination writes to file descriptor 1 directly; this is the same stdout, through the stream a test can read.
        ...(logs ? { logger: { stream: { write: (line: string) => void process.stdout.write(line) } } } : {}),
      });
      await app.register(fastifyGatewayErrors, conventions);
      app.setNotFoundHandler(notFoundHandler(conventions));
      app.post(
        '/orders',
        {
          schema: {
            body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
          },
        },
        async (request, reply) => reply.code(201).send(request.body),
      );
      const scenario = async (request: FastifyRequest, reply: FastifyReply) => {
        const { name } = request.params as { name: string };
        const action = extra?.get(name) ?? actions.get(name);
        if (action === undefined) return reply.callNotFound();
        await action(faults);
        return { ok: true };
      };
      app.all('/s/:name', scenario);
      app.all('/stale/:name', async (request, reply) => {
        reply.headers(HEADERS_BEFORE_FAILURE);
        return scenario(request, reply);
      });
      app.get('/health', async () => ({ ok: true }));
      app.get('/stream', (_request, reply) => reply.type('text/plain; charset=utf-8').send(Readable.from(body(faults))));
      app.get('/started', async (_request, reply) => writeBody(reply.raw, body(faults)));
      await app.listen({ host: '127.0.0.1', port: 0 });
      return {
        url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
        connections: connectionsOf(app.server),
        close: () => app.close(),
      };
    },
  };
}

/** Fastify with its default `requestIdLogLabel` (`reqId`): what the log suite also checks, and no other. */
export const fastifyDefaultLabel: Target = fastifyTarget('fastify@5 (requestIdLogLabel reqId)', {});

const honoTarget: Target = {
  name: 'hono@4 (node-server)',
  ownHeaders: [],
  async start(conventions, faults, { actions: extra, body = failingBody } = {}) {
    const app = new Hono();
    app.use(honoRequestId(conventions));
    app.post(
      '/orders',
      // Hono's default bodyLimit answers with its own text response; a thrown HTTPException gets a problem.
      bodyLimit({
        maxSize: ORDER_BODY_LIMIT,
        onError: () => {
          throw new HTTPException(413, { message: 'The order is too large.' });
        },
      }),
      async (c, next) => {
        if (!(c.req.header('content-type') ?? '').startsWith('application/json')) {
          throw new HTTPException(415, { message: 'Send the order as application/json.' });
        }
        await next();
      },
      validator('json', (value: { name?: unknown }) => {
        if (typeof value.name === 'string') return value;
        throw Object.assign(new HTTPException(400, { message: 'The order is invalid.' }), {
          errors: [{ pointer: '#/name', detail: 'must be a string' }],
        });
      }),
      (c) => c.json({ name: c.req.valid('json').name }, 201),
    );
    const scenario = async (c: Context) => {
      const name = c.req.param('name') ?? '';
      const action = extra?.get(name) ?? actions.get(name);
      if (action === undefined) return c.notFound();
      await action(faults);
      return c.json({ ok: true });
    };
    app.all('/s/:name', scenario);
    app.all('/stale/:name', (c) => {
      for (const [header, value] of Object.entries(HEADERS_BEFORE_FAILURE)) c.header(header, value);
      return scenario(c);
    });
    app.get('/health', (c) => c.json({ ok: true }));
    // A Hono handler answers with a Response, so the error handler never sees a started one: both routes are one.
    app.on('GET', ['/stream', '/started'], (c) => {
      const chunks = body(faults);
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await chunks.next();
          if (done === true) controller.close();
          else controller.enqueue(value);
        },
      });
      // Without it, node-server reads ahead to compute a Content-Length, and ends a
      // stream that fails during that read as if it were complete.
      return c.body(stream, 200, { 'content-type': 'text/plain; charset=utf-8', 'transfer-encoding': 'chunked' });
    });
    app.notFound(honoNotFound(conventions));
    app.onError(honoErrors(conventions));
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const listening = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(listening));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      connections: connectionsOf(server as Server),
      close: () =>
        new Promise<void>((resolve) => {
          (server as Server).closeAllConnections();
          server.close(() => resolve());
        }),
    };
  },
};

export const targets: readonly Target[] = [
  expressTarget('express@5', express5, { nativeAsync: true }),
  expressTarget('express@4', express4, { nativeAsync: false }),
  fastifyTarget('fastify@5', { requestIdLogLabel: 'requestId' }),
  honoTarget,
  ...nestTargets,
];
