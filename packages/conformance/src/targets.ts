import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Readable } from 'node:stream';
import type { Conventions } from '@gateway-errors/core';
import { gatewayErrors, notFound, requestId } from '@gateway-errors/express';
import fastifyGatewayErrors, { genReqId, notFoundHandler } from '@gateway-errors/fastify';
import type { Faults } from '@gateway-errors/fault-servers';
import express5 from 'express';
import type { NextFunction, Request, Response } from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import { serve } from '@hono/node-server';
import { gatewayErrors as honoErrors, notFound as honoNotFound, requestId as honoRequestId } from '@gateway-errors/hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { validator } from 'hono/validator';
import createHttpError from 'http-errors';
import { connectionsOf } from './connections.js';
import { nestTargets, writeBody } from './nest-target.js';
import { actions, failingBody, ORDER_BODY_LIMIT } from './scenarios.js';
import type { RouteAction } from './scenarios.js';

/**
 * A running app of one framework, wired the way its adapter's README says.
 * Besides the routes of the scenarios (`/orders`, `/s/:name`), every app has
 * `GET /health`, answering 200 at once, `GET /stream`, streaming
 * {@link failingBody} the framework's own way, and `GET /started`, which writes
 * its head and first chunk itself and leaves the failure to the adapter's error
 * handler ({@link writeBody}).
 */
export interface RunningTarget {
  readonly url: string;
  /** How many connections the app's server holds open. */
  connections(): Promise<number>;
  close(): Promise<void>;
}

/** What a test changes in a target; the scenarios start every target without any. */
export interface StartOptions {
  /**
   * Turn on the logger the framework has in a deployed app: Fastify's pino (onto stdout, through
   * `process.stdout`), Nest's `ConsoleLogger`. Without, neither logs anything of its own. Express and
   * Hono have no logger of their own to turn on.
   */
  readonly logs?: boolean;
  /** Actions of `/s/:name` besides the scenarios' ({@link actions}). */
  readonly actions?: ReadonlyMap<string, RouteAction>;
  /** What `/stream` and `/started` send, instead of {@link failingBody}. */
  readonly body?: (faults: Faults) => AsyncGenerator<Uint8Array, void, undefined>;
}

/** One framework (and version) the conformance suite runs against. */
export interface Target {
  readonly name: string;
  start(conventions: Conventions, faults: Faults, options?: StartOptions): Promise<RunningTarget>;
  /** Headers the framework sets itself, left out of cross-adapter comparisons. */
  readonly ownHeaders: readonly string[];
}

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
      app.all('/s/:name', (req: Request, res: Response, next: NextFunction) => {
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

const fastifyTarget: Target = {
  name: 'fastify@5',
  ownHeaders: [],
  async start(conventions, faults, { logs = false, actions: extra, body = failingBody } = {}) {
    const app = Fastify({
      genReqId: genReqId(conventions),
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
    app.all('/s/:name', async (request, reply) => {
      const { name } = request.params as { name: string };
      const action = extra?.get(name) ?? actions.get(name);
      if (action === undefined) return reply.callNotFound();
      await action(faults);
      return { ok: true };
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
    app.all('/s/:name', async (c) => {
      const name = c.req.param('name');
      const action = extra?.get(name) ?? actions.get(name);
      if (action === undefined) return c.notFound();
      await action(faults);
      return c.json({ ok: true });
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
  expressTarget('express@4', express4 as unknown as ExpressModule, { nativeAsync: false }),
  fastifyTarget,
  honoTarget,
  ...nestTargets,
];
