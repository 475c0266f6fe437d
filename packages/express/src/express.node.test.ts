import { Writable } from 'node:stream';
import { defineConventions } from '@gateway-errors/core';
import type { ErrorReport } from '@gateway-errors/core';
import express5 from 'express';
import type { NextFunction, Request, Response } from 'express';
import express4 from 'express4';
import { pino } from 'pino';
import { pinoHttp } from 'pino-http';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { refusedPort } from '@gateway-errors/fault-servers';
import { asyncHandler, gatewayErrors, requestId } from './index.js';
import { captureStderr } from '../../core/src/test-support/stderr.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const refused = () => Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432'), { code: 'ECONNREFUSED' });
const versions = [
  ['express@5', express5],
  ['express@4', express4 as unknown as typeof express5],
] as const;

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(versions)('%s', (_name, express) => {
  function collecting() {
    const reports: ErrorReport[] = [];
    return { reports, conventions: defineConventions({ onError: (report) => void reports.push(report) }) };
  }

  it('answers with a validated request ID even without requestId()', async () => {
    const app = express();
    app.get('/x', (_req, _res, next) => next(refused()));
    app.use(gatewayErrors({ onError: false }));
    const hostile = await request(app).get('/x').set('x-request-id', 'a b c');
    expect(hostile.status).toBe(502);
    expect(hostile.headers['x-request-id']).toMatch(UUID);
    const valid = await request(app).get('/x').set('x-request-id', 'abc-123');
    expect(valid.headers['x-request-id']).toBe('abc-123');
    expect(JSON.parse(valid.text)).toMatchObject({ requestId: 'abc-123', code: 'UPSTREAM_UNREACHABLE' });
  });

  it('asyncHandler() passes a real rejected fetch, a throw and an empty rejection to the error handler', async () => {
    const port = await refusedPort();
    const app = express();
    app.use(requestId({ onError: false }));
    app.get(
      '/fetch',
      asyncHandler(async (_req, res) => {
        res.json(await (await fetch(`http://127.0.0.1:${port}/orders/7`)).json());
      }),
    );
    app.get(
      '/throw',
      asyncHandler(() => {
        throw refused();
      }),
    );
    app.get('/empty', asyncHandler(() => Promise.reject()));
    app.get('/ok', asyncHandler(async (req, res) => void res.json({ id: req.id })));
    // A thenable whose `then` is a getter that throws on its second read, or throws when called.
    let reads = 0;
    const shifty = {
      get then() {
        reads += 1;
        if (reads > 1) throw new Error('read twice');
        return (_resolve: unknown, reject: (error: unknown) => void) => reject(refused());
      },
    };
    app.get('/shifty', asyncHandler(() => shifty));
    app.get(
      '/throwing-then',
      asyncHandler(() => ({
        then() {
          throw refused();
        },
      })),
    );
    app.use(gatewayErrors({ onError: false }));
    for (const [path, code] of [
      ['/fetch', 'UPSTREAM_UNREACHABLE'],
      ['/throw', 'UPSTREAM_UNREACHABLE'],
      ['/empty', 'INTERNAL_ERROR'],
      ['/shifty', 'UPSTREAM_UNREACHABLE'],
      ['/throwing-then', 'UPSTREAM_UNREACHABLE'],
    ] as const) {
      const response = await request(app).get(path).set('x-request-id', 'r-1');
      expect(response.status, path).toBe(code === 'INTERNAL_ERROR' ? 500 : 502);
      expect(JSON.parse(response.text)).toMatchObject({ code, requestId: 'r-1' });
      expect(response.text).not.toContain(String(port));
    }
    expect((await request(app).get('/ok').set('x-request-id', 'r-2')).body).toEqual({ id: 'r-2' });
    expect(reads).toBe(1);
  });

  it('requestId() sets the header on every response and exposes the ID', async () => {
    const app = express();
    app.use(requestId());
    app.get('/ok', (req, res) => {
      res.json({ id: req.id, local: res.locals['requestId'] });
    });
    const response = await request(app).get('/ok').set('x-request-id', 'req-7');
    expect(response.headers['x-request-id']).toBe('req-7');
    expect(response.body).toEqual({ id: 'req-7', local: 'req-7' });
  });

  it('works when mounted on a sub-router', async () => {
    const app = express();
    const router = express.Router();
    router.get('/orders/:id', (_req, _res, next) => next(refused()));
    router.use(gatewayErrors({ onError: false }));
    app.use('/api/v1', router);
    const response = await request(app).get('/api/v1/orders/7?debug=1');
    expect(response.status).toBe(502);
    expect(JSON.parse(response.text)).toMatchObject({ instance: '/api/v1/orders/7' });
  });

  it('cuts off a response that already started, keeps the error from Express, and still reports it', async () => {
    const { reports, conventions } = collecting();
    const handedOn: unknown[] = [];
    const app = express();
    // Express's final handler prints the raw stack of an error it is given, unless the env is `test`.
    app.set('env', 'production');
    app.get('/stream', (_req, res, next) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first half…');
      setTimeout(() => next(Object.assign(new Error('upstream stream reset'), { code: 'ECONNRESET' })), 5);
    });
    app.use(gatewayErrors(conventions));
    app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
      handedOn.push(error);
      next(error);
    });
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const outcome = await request(app)
      .get('/stream')
      .then(
        (response) => ({ status: response.status, text: response.text }),
        (error: Error) => ({ error: error.message }),
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The client got the 200 head and a cut-off body: a socket error, never a complete response or a problem body.
    expect(outcome).toEqual({ error: expect.any(String) });
    expect(reports).toHaveLength(1);
    expect(reports[0]?.classification.code).toBe('UPSTREAM_CONNECTION_LOST');
    expect(handedOn).toEqual([]);
    expect(printed).not.toHaveBeenCalled();
  });

  it('leaves a client that is gone alone: nothing written, nothing thrown, and still reports it', async () => {
    const { reports, conventions } = collecting();
    const app = express();
    const handedOn: unknown[] = [];
    const calls: string[] = [];
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    app.get('/slow', (req, res, next) => {
      for (const name of ['writeHead', 'write', 'end', 'destroy'] as const) {
        vi.spyOn(res, name).mockImplementation(() => {
          calls.push(name);
          return res as never;
        });
      }
      req.socket.destroy();
      setTimeout(() => {
        next(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        finished();
      }, 10);
    });
    app.use(gatewayErrors(conventions));
    app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
      handedOn.push(error);
      next(error);
    });
    await request(app)
      .get('/slow')
      .catch(() => undefined);
    await done;
    expect(calls).toEqual([]);
    expect(handedOn).toEqual([]);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.classification.status).toBe(499);
  });

  it('turns body-parser errors into 400, 413 and 415 problems', async () => {
    const app = express();
    app.post('/orders', express.json({ limit: 100 }), (_req, res) => void res.sendStatus(201));
    app.use(gatewayErrors({ onError: false }));
    const malformed = await request(app).post('/orders').set('content-type', 'application/json').send('{"a":');
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.text)).toMatchObject({ code: 'BAD_REQUEST', retryable: false });
    const large = await request(app).post('/orders').set('content-type', 'application/json').send(JSON.stringify({ a: 'x'.repeat(500) }));
    expect(large.status).toBe(413);
    const charset = await request(app).post('/orders').set('content-type', 'application/json; charset=koi8-r').send('{}');
    expect(charset.status).toBe(415);
    expect(JSON.parse(charset.text)).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('logs each 5xx once through req.log when pino-http is in front, and no 4xx', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        callback();
      },
    });
    const app = express();
    app.use(requestId());
    app.use(pinoHttp({ logger: pino(sink), genReqId: (req) => (req as Request & { id: string }).id, autoLogging: false }));
    app.get('/fail', (_req, _res, next) => next(refused()));
    app.get('/missing', (_req, _res, next) => next(Object.assign(new Error('nope'), { status: 404 })));
    app.use(gatewayErrors());
    await request(app).get('/fail').set('x-request-id', 'log-1');
    await request(app).get('/missing').set('x-request-id', 'log-2');
    const errors = lines.filter((line) => line['level'] === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ requestId: 'log-1', code: 'UPSTREAM_UNREACHABLE', status: 502, req: { id: 'log-1' } });
    expect(errors[0]?.['err']).toMatchObject({ type: 'Error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.1.2.3:5432', stack: expect.any(String) });
  });

  it('logs each 5xx as one JSON line on stderr when there is no req.log', async () => {
    const stderr = captureStderr();
    const app = express();
    app.get('/fail', (_req, _res, next) => next(refused()));
    app.get('/bad', (_req, _res, next) => next(Object.assign(new Error('bad input'), { status: 400 })));
    app.use(gatewayErrors());
    await request(app).get('/fail').set('x-request-id', 'err-1');
    await request(app).get('/bad');
    const lines = stderr.lines();
    stderr.restore();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'error',
      requestId: 'err-1',
      code: 'UPSTREAM_UNREACHABLE',
      err: { type: 'Error', message: 'connect ECONNREFUSED 10.1.2.3:5432', code: 'ECONNREFUSED', stack: expect.stringMatching(/^Error: connect ECONNREFUSED 10\.1\.2\.3:5432\n {4}at /) },
    });
  });
});
