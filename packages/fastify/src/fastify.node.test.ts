import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { classify, defineConventions, toLogEntry } from '@gateway-errors/core';
import type { ErrorReport } from '@gateway-errors/core';
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import gatewayErrors, { errorHandler, genReqId } from './index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const refused = () => Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432'), { code: 'ECONNREFUSED' });
const apps: FastifyInstance[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

function logSink(): { lines: Record<string, unknown>[]; texts: string[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const texts: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      texts.push(chunk.toString());
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, texts, stream };
}

async function build(options: FastifyServerOptions = {}, conventions = defineConventions({ onError: false })): Promise<FastifyInstance> {
  const app = Fastify(options);
  apps.push(app);
  await app.register(gatewayErrors, conventions);
  app.get('/fail', async () => {
    throw refused();
  });
  return app;
}

describe('@gateway-errors/fastify', () => {
  it('with genReqId, the header, the body and request.log carry the same validated ID', async () => {
    const { lines, stream } = logSink();
    const conventions = defineConventions({});
    const app = Fastify({ genReqId: genReqId(conventions), logger: { stream, level: 'info' } });
    apps.push(app);
    await app.register(gatewayErrors, conventions);
    app.get('/fail', async (request) => {
      request.log.info('calling the upstream');
      throw refused();
    });
    const response = await app.inject({ method: 'GET', url: '/fail', headers: { 'x-request-id': 'fy-1' } });
    expect(response.statusCode).toBe(502);
    expect(response.headers['x-request-id']).toBe('fy-1');
    expect(response.json()).toMatchObject({ requestId: 'fy-1', code: 'UPSTREAM_UNREACHABLE' });
    const mine = lines.filter((line) => line['reqId'] === 'fy-1');
    expect(mine.map((line) => line['msg'])).toContain('calling the upstream');
    const errors = lines.filter((line) => line['level'] === 50);
    expect(errors).toHaveLength(1);
    // request.log binds the ID as reqId: the record does not name it a second time.
    expect(errors[0]).toMatchObject({ reqId: 'fy-1', code: 'UPSTREAM_UNREACHABLE', err: { type: 'Error', code: 'ECONNREFUSED' } });
    expect(errors[0]).not.toHaveProperty('requestId');

    const hostile = await app.inject({ method: 'GET', url: '/fail', headers: { 'x-request-id': 'x\u0000y' } });
    expect(hostile.headers['x-request-id']).toMatch(UUID);
    expect(hostile.json()['requestId']).toBe(hostile.headers['x-request-id']);
  });

  it("with requestIdLogLabel: 'requestId', the record is the core's, with the ID named once", async () => {
    const { lines, texts, stream } = logSink();
    const conventions = defineConventions({});
    const app = Fastify({
      genReqId: genReqId(conventions),
      logController: new LogController({ requestIdLogLabel: 'requestId' }),
      logger: { stream, level: 'error', base: null, timestamp: false },
    });
    apps.push(app);
    await app.register(gatewayErrors, conventions);
    const error = new Error('query failed for postgres://app:hunter2@db.internal/orders', { cause: refused() });
    app.get('/fail', async () => {
      throw error;
    });
    await app.inject({ method: 'GET', url: '/fail', headers: { 'x-request-id': 'fy-2' } });
    expect(lines).toHaveLength(1);
    const { level: _level, msg, ...fields } = toLogEntry({ error, classification: classify(error), requestId: 'fy-2', method: 'GET', path: '/fail' });
    // pino writes its bindings first, and the core's fields as they are: its err serializer changes nothing.
    expect(texts[0]).toBe(`${JSON.stringify({ level: 50, ...fields, msg })}\n`);
    expect(texts[0]!.match(/"fy-2"/g)).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      requestId: 'fy-2',
      err: {
        type: 'Error',
        message: 'query failed for postgres://***@db.internal/orders: connect ECONNREFUSED 10.1.2.3:5432',
        stack: expect.stringContaining('\ncaused by: Error: connect ECONNREFUSED 10.1.2.3:5432\n'),
        causes: [{ type: 'Error', message: 'connect ECONNREFUSED 10.1.2.3:5432', code: 'ECONNREFUSED' }],
      },
    });
    expect(texts[0]).not.toContain('hunter2');
  });

  it('without genReqId, request.log is bound again under the logController label, or the deprecated top-level one', async () => {
    for (const options of [{ logController: new LogController({ requestIdLogLabel: 'requestId' }) }, { requestIdLogLabel: 'requestId' }]) {
      const { lines, texts, stream } = logSink();
      const app = Fastify({ ...options, logger: { stream, level: 'error' } });
      apps.push(app);
      // Registered in an encapsulated context: the label is found on an ancestor of the plugin's instance.
      await app.register(async (scope) => {
        await scope.register(gatewayErrors, defineConventions({}));
        scope.get('/fail', async () => {
          throw refused();
        });
      });
      const response = await app.inject({ method: 'GET', url: '/fail', headers: { 'x-request-id': 'fy-label' } });
      expect(response.statusCode).toBe(502);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ requestId: 'fy-label', code: 'UPSTREAM_UNREACHABLE' });
      expect(lines[0]).not.toHaveProperty('reqId');
      expect(texts[0]!.match(/"fy-label"/g)).toHaveLength(1);
    }
  });

  it('the bare error handler keeps requestId when request.log carries another ID', async () => {
    const { lines, stream } = logSink();
    // Fastify's own ID, which the core does not take (a space): the answer has an ID of its own.
    const app = Fastify({ genReqId: () => 'fastify id', logger: { stream, level: 'error' } });
    apps.push(app);
    app.setErrorHandler(errorHandler(defineConventions({})));
    app.get('/fail', async () => {
      throw refused();
    });
    const response = await app.inject({ method: 'GET', url: '/fail' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reqId: 'fastify id', requestId: response.json()['requestId'] });
    expect(response.json()['requestId']).toMatch(UUID);
  });

  it('the plugin alone still answers with a validated ID, on success too, and request.log carries it', async () => {
    const { lines, stream } = logSink();
    const app = await build({ logger: { stream, level: 'info' } });
    app.get('/ok', async (request) => {
      request.log.info('serving');
      return { id: request.id };
    });
    const ok = await app.inject({ method: 'GET', url: '/ok', headers: { 'x-request-id': 'ok-1' } });
    expect(ok.headers['x-request-id']).toBe('ok-1');
    expect(ok.json()).toEqual({ id: 'ok-1' });
    expect(lines.find((line) => line['msg'] === 'serving')).toMatchObject({ reqId: 'ok-1' });
    const generated = await app.inject({ method: 'GET', url: '/fail', headers: { 'x-request-id': 'bad id' } });
    expect(generated.headers['x-request-id']).toMatch(UUID);
    expect(generated.json()['requestId']).toBe(generated.headers['x-request-id']);
  });

  it('turns validation errors into a 400 with an errors array', async () => {
    const app = await build();
    app.post(
      '/orders',
      {
        schema: {
          body: {
            type: 'object',
            required: ['name', 'quantity'],
            properties: { name: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
          },
        },
      },
      async () => ({ ok: true }),
    );
    const response = await app.inject({ method: 'POST', url: '/orders', payload: { name: 'x', quantity: 0 } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'BAD_REQUEST',
      retryable: false,
      errors: [{ pointer: '#/quantity', detail: 'quantity must be >= 1' }],
    });
  });

  it('writes nothing once the reply started, and still reports it', async () => {
    const reports: ErrorReport[] = [];
    const app = await build({}, defineConventions({ onError: (report) => void reports.push(report) }));
    app.get('/stream', (_request, reply) => {
      reply.raw.writeHead(200, { 'content-type': 'text/plain' });
      reply.raw.write('first half…');
      reply.hijack();
      // The upstream stream fails after the head went out: the handler hands the error over.
      errorHandler(defineConventions({ onError: (report) => void reports.push(report) }))(
        Object.assign(new Error('stream reset'), { code: 'ECONNRESET' }),
        _request,
        reply,
      );
      reply.raw.destroy();
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const text = await fetch(`http://127.0.0.1:${port}/stream`).then(
      (response) => response.text(),
      (error: Error) => error.message,
    );
    expect(text).not.toContain('problem');
    expect(reports).toHaveLength(1);
    expect(reports[0]?.classification.code).toBe('UPSTREAM_CONNECTION_LOST');
  });

  it('does not log 4xx through request.log', async () => {
    const { lines, stream } = logSink();
    const app = await build({ logger: { stream, level: 'info' } }, defineConventions({}));
    app.get('/bad', async () => {
      throw Object.assign(new Error('bad input'), { statusCode: 400 });
    });
    await app.inject({ method: 'GET', url: '/bad' });
    await app.inject({ method: 'GET', url: '/fail' });
    expect(lines.filter((line) => line['level'] === 50)).toHaveLength(1);
  });
});
