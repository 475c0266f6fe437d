import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { runInNewContext } from 'node:vm';
import { currentHop, defineConventions } from '@gateway-errors/core';
import type { ErrorReport } from '@gateway-errors/core';
import {
  BadGatewayException,
  Body,
  ConsoleLogger,
  Controller,
  Get,
  GatewayTimeoutException,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Post,
  Res,
  ServiceUnavailableException,
  UseFilters,
  ValidationPipe,
} from '@nestjs/common';
import type { INestApplication, LoggerService, MiddlewareConsumer, NestMiddleware, NestModule } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { RpcException } from '@nestjs/microservices';
import { IsInt, IsString, Min } from 'class-validator';
import { lastValueFrom } from 'rxjs';
import type { Observable } from 'rxjs';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ERRORS_CONVENTIONS, GatewayErrorsModule, GatewayExceptionFilter } from './index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const refused = () => new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }) });

class OrderDto {
  @IsString()
  name!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

@Controller()
class OrdersController {
  @Get('refused')
  refused(): never {
    throw refused();
  }

  @Get('bad-gateway')
  badGateway(): never {
    throw new BadGatewayException();
  }

  @Get('unavailable')
  unavailable(): never {
    throw new ServiceUnavailableException();
  }

  @Get('timeout')
  timeout(): never {
    throw new GatewayTimeoutException();
  }

  @Get('database')
  database(): never {
    throw new Error('query failed for postgres://app:hunter2-SECRET@db.internal:5432/orders', {
      cause: new Error('connection to postgres://app:hunter2-SECRET@db.internal:5432/orders lost'),
    });
  }

  @Get('not-found')
  notFound(): never {
    throw new NotFoundException('No such order');
  }

  @Get('stream')
  async stream(@Res() reply: { raw?: NodeJS.WritableStream & { writeHead(status: number): unknown } }): Promise<never> {
    const raw = (reply.raw ?? reply) as NodeJS.WritableStream & { writeHead(status: number): unknown };
    raw.writeHead(200);
    raw.write('{"orders":[');
    await new Promise((resolve) => setTimeout(resolve, 10));
    throw refused();
  }

  @Post('orders')
  create(@Body(new ValidationPipe()) order: OrderDto): OrderDto {
    return order;
  }
}

const apps: INestApplication[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

class CollectingLogger implements LoggerService {
  readonly errors: unknown[][] = [];
  log(): void {}
  warn(): void {}
  error(...args: unknown[]): void {
    this.errors.push(args);
  }
}

type Platform = 'express' | 'fastify';

async function start(module: unknown, platform: Platform, logger: LoggerService | false = false): Promise<INestApplication> {
  const app = await NestFactory.create(module as never, platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return app;
}

/** The record Nest's text-mode `ConsoleLogger` printed after its prefix (`Object(7) {…}`), as `util.inspect` writes JavaScript, read back. */
function inspected(line: string): unknown {
  return JSON.parse(JSON.stringify(runInNewContext(`(${line.slice(line.indexOf('{'))})`)));
}

function url(app: INestApplication): string {
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}

describe.each(['express', 'fastify'] as const)('platform-%s', (platform) => {
  @Module({ imports: [GatewayErrorsModule.forRoot({ onError: false })], controllers: [OrdersController] })
  class AppModule {}

  it('answers upstream failures with the problem response and the request ID', async () => {
    const app = await start(AppModule, platform);
    const response = await request(url(app)).get('/refused').set('x-request-id', 'n-1');
    expect(response.status).toBe(502);
    expect(response.headers['x-request-id']).toBe('n-1');
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(JSON.parse(response.text)).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', requestId: 'n-1', instance: '/refused' });
  });

  it('cuts the connection when a response fails after its headers went out, and keeps serving', async () => {
    const app = await start(AppModule, platform);
    const response = await fetch(`${url(app)}/stream`, { signal: AbortSignal.timeout(5000) });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow(/terminated/);
    expect((await request(url(app)).get('/refused')).status).toBe(502);
  });

  it("maps Nest's gateway exceptions to the matching codes", async () => {
    const app = await start(AppModule, platform);
    const agent = request(url(app));
    expect(JSON.parse((await agent.get('/bad-gateway')).text)).toMatchObject({ status: 502, code: 'UPSTREAM_BAD_RESPONSE' });
    const unavailable = await agent.get('/unavailable');
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers['retry-after']).toBe('5');
    expect(JSON.parse(unavailable.text)).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(JSON.parse((await agent.get('/timeout')).text)).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT' });
  });

  it('keeps HttpException statuses and messages', async () => {
    const app = await start(AppModule, platform);
    const response = await request(url(app)).get('/not-found');
    expect(response.status).toBe(404);
    expect(JSON.parse(response.text)).toMatchObject({ code: 'NOT_FOUND', detail: 'No such order' });
  });

  it("turns the ValidationPipe's messages into errors", async () => {
    const app = await start(AppModule, platform);
    const response = await request(url(app)).post('/orders').send({ name: 42, quantity: 0 });
    expect(response.status).toBe(400);
    const body = JSON.parse(response.text) as { errors: Array<{ detail: string }> };
    expect(body.errors.map((entry) => entry.detail).sort()).toEqual(['name must be a string', 'quantity must not be less than 1']);
  });

  it('answers unmatched routes with a problem 404 that does not echo the request', async () => {
    const app = await start(AppModule, platform);
    const response = await request(url(app)).get('/no/such/route');
    expect(response.status).toBe(404);
    expect(JSON.parse(response.text)).toMatchObject({ code: 'NOT_FOUND', detail: 'No route matches this request.' });
  });

  it('generates an ID when the incoming one is hostile', async () => {
    const app = await start(AppModule, platform);
    const response = await request(url(app)).get('/refused').set('x-request-id', 'a'.repeat(500));
    expect(response.headers['x-request-id']).toMatch(UUID);
    expect(JSON.parse(response.text)['requestId']).toBe(response.headers['x-request-id']);
  });

  it("logs each 5xx once through Nest's Logger, and no 4xx", async () => {
    @Module({ imports: [GatewayErrorsModule.forRoot({})], controllers: [OrdersController] })
    class LoggingModule {}
    const logger = new CollectingLogger();
    const app = await start(LoggingModule, platform, logger);
    await request(url(app)).get('/refused').set('x-request-id', 'log-1');
    await request(url(app)).get('/not-found');
    const ours = logger.errors.filter((args) => args.includes('GatewayErrors'));
    expect(ours).toHaveLength(1);
    expect(ours[0]?.[0]).toMatchObject({ requestId: 'log-1', code: 'UPSTREAM_UNREACHABLE', status: 502 });
  });

  it("logs the core's masked entry as one record, with no raw stack beside it", async () => {
    @Module({ imports: [GatewayErrorsModule.forRoot({})], controllers: [OrdersController] })
    class LoggingModule {}
    const logger = new CollectingLogger();
    const app = await start(LoggingModule, platform, logger);
    await request(url(app)).get('/database').set('x-request-id', 'log-2');
    const ours = logger.errors.filter((args) => args.includes('GatewayErrors'));
    // Nest's Logger adds only its context: a second string would be printed as a stack.
    expect(ours).toEqual([[expect.any(Object), undefined, 'GatewayErrors']]);
    expect(ours[0]?.[0]).toMatchObject({
      msg: 'GET /database failed: 500 INTERNAL_ERROR',
      requestId: 'log-2',
      method: 'GET',
      path: '/database',
      status: 500,
      code: 'INTERNAL_ERROR',
      err: {
        type: 'Error',
        message: 'query failed for postgres://***@db.internal:5432/orders: connection to postgres://***@db.internal:5432/orders lost',
        stack: expect.any(String),
        causes: [{ type: 'Error', message: 'connection to postgres://***@db.internal:5432/orders lost' }],
      },
    });
    expect(JSON.stringify(ours)).not.toContain('hunter2-SECRET');
  });

  it.each(['text', 'json'] as const)("Nest's ConsoleLogger in %s mode prints the whole record, its cause chain included", async (mode) => {
    @Module({ imports: [GatewayErrorsModule.forRoot({})], controllers: [OrdersController] })
    class LoggingModule {}
    const printed: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    // Nest's start-up lines.
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const app = await start(LoggingModule, platform, new ConsoleLogger({ colors: false, json: mode === 'json' }));
      await request(url(app)).get('/database').set('x-request-id', `log-${mode}`);
    } finally {
      write.mockRestore();
      quiet.mockRestore();
    }
    const ours = printed.filter((line) => line.includes('GatewayErrors'));
    expect(ours).toHaveLength(1);
    const record = mode === 'json' ? (JSON.parse(ours[0]!) as { message: unknown }).message : inspected(ours[0]!);
    expect(record).toEqual({
      msg: 'GET /database failed: 500 INTERNAL_ERROR',
      requestId: `log-${mode}`,
      method: 'GET',
      path: '/database',
      status: 500,
      code: 'INTERNAL_ERROR',
      err: {
        type: 'Error',
        message: 'query failed for postgres://***@db.internal:5432/orders: connection to postgres://***@db.internal:5432/orders lost',
        stack: expect.stringMatching(
          /^Error: query failed for postgres:\/\/\*\*\*@db\.internal:5432\/orders\n {4}at [^]*\ncaused by: Error: connection to postgres:\/\/\*\*\*@db\.internal:5432\/orders lost\n {4}at /,
        ),
        causes: [{ type: 'Error', message: 'connection to postgres://***@db.internal:5432/orders lost' }],
      },
    });
    expect(ours[0]).not.toContain('hunter2-SECRET');
  });

  it('forRootAsync takes conventions from a factory with injected dependencies', async () => {
    const reports: ErrorReport[] = [];
    @Module({ providers: [{ provide: 'CONFIG', useValue: { typeBase: 'https://errors.example.com/' } }], exports: ['CONFIG'] })
    class ConfigModule {}
    @Module({
      imports: [
        GatewayErrorsModule.forRootAsync({
          imports: [ConfigModule],
          inject: ['CONFIG'],
          useFactory: async (config: { typeBase: string }) => ({ ...config, onError: (report) => void reports.push(report) }),
        }),
      ],
      controllers: [OrdersController],
    })
    class AsyncModule {}
    const app = await start(AsyncModule, platform);
    expect(app.get(GATEWAY_ERRORS_CONVENTIONS)).toMatchObject({ typeBase: 'https://errors.example.com/' });
    const response = await request(url(app)).get('/refused');
    expect(JSON.parse(response.text)['type']).toBe('https://errors.example.com/upstream-unreachable');
    expect(reports).toHaveLength(1);
  });
});

@Controller('hop')
class HopController {
  @Get()
  get(): unknown {
    return seenHop();
  }

  @Post(':step')
  async post(@Param('step') step: string, @Body() body: unknown): Promise<unknown> {
    // After an await too: the hop follows the request's async work.
    if (step === 'later') await new Promise((resolve) => setTimeout(resolve, 5));
    return { ...seenHop(), body };
  }
}

function seenHop(): Record<string, unknown> {
  const hop = currentHop();
  return { requestId: hop?.requestId ?? null, traceparent: hop?.traceparent ?? null, header: hop?.conventions?.requestIdHeader ?? null };
}

/** A request whose body arrives well after its head, over a raw socket: the handler then runs in another tick than the middleware. */
function lateBody(base: string, path: string, headers: Record<string, string>, body: string): Promise<string> {
  const { port } = new URL(base);
  const head = [`POST ${path} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', `content-length: ${Buffer.byteLength(body)}`]
    .concat(Object.entries(headers).map(([name, value]) => `${name}: ${value}`))
    .join('\r\n');
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`${head}\r\n\r\n`);
      setTimeout(() => socket.write(body), 30);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text.slice(text.indexOf('\r\n\r\n') + 4)));
  });
}

describe.each(['express', 'fastify'] as const)('the request hop on platform-%s', (platform) => {
  const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  @Module({ imports: [GatewayErrorsModule.forRoot({ onError: false, requestIdHeader: 'x-correlation-id' })], controllers: [HopController] })
  class HopModule {}

  it('is visible in a controller, with the answered request ID and the valid traceparent', async () => {
    const app = await start(HopModule, platform);
    const response = await request(url(app)).get('/hop').set('x-correlation-id', 'hop-1').set('traceparent', TRACEPARENT);
    expect(response.headers['x-correlation-id']).toBe('hop-1');
    expect(response.body).toEqual({ requestId: 'hop-1', traceparent: TRACEPARENT, header: 'x-correlation-id' });
    const generated = await request(url(app)).get('/hop').set('traceparent', 'ff-bogus');
    expect(generated.body).toEqual({ requestId: generated.headers['x-correlation-id'], traceparent: null, header: 'x-correlation-id' });
  });

  it('is visible after the body was parsed, and after an await', async () => {
    const app = await start(HopModule, platform);
    const answer = await lateBody(url(app), '/hop/later', { 'x-correlation-id': 'hop-2', traceparent: TRACEPARENT, 'content-type': 'application/json' }, '{"name":"x"}');
    expect(JSON.parse(answer)).toEqual({ requestId: 'hop-2', traceparent: TRACEPARENT, header: 'x-correlation-id', body: { name: 'x' } });
  });

  it('is each request its own under concurrency, and none outside a request', async () => {
    const app = await start(HopModule, platform);
    const ids = Array.from({ length: 20 }, (_, i) => `hop-c-${i}`);
    const seen = await Promise.all(
      ids.map(async (id) => ((await request(url(app)).post('/hop/later').set('x-correlation-id', id).send({ id })).body as { requestId: string }).requestId),
    );
    expect(seen).toEqual(ids);
    expect(currentHop()).toBeUndefined();
  });
});

describe('GatewayExceptionFilter on its own', () => {
  it.each(['express', 'fastify'] as const)('works with app.useGlobalFilters on platform-%s', async (platform) => {
    @Module({ controllers: [OrdersController] })
    class PlainModule {}
    const app = await NestFactory.create(PlainModule, platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false });
    apps.push(app);
    app.useGlobalFilters(new GatewayExceptionFilter(app.get(HttpAdapterHost), defineConventions({ onError: false })));
    await app.listen(0, '127.0.0.1');
    const response = await request(url(app)).get('/refused').set('x-request-id', 'g-1');
    expect(response.status).toBe(502);
    expect(JSON.parse(response.text)).toMatchObject({ requestId: 'g-1', code: 'UPSTREAM_UNREACHABLE' });
  });

  it('works with @UseFilters on a controller', async () => {
    @Controller('scoped')
    @UseFilters(GatewayExceptionFilter)
    class ScopedController {
      @Get()
      fail(): never {
        throw refused();
      }
    }
    @Module({ controllers: [ScopedController] })
    class ScopedModule {}
    const app = await start(ScopedModule, 'express');
    const response = await request(url(app)).get('/scoped');
    expect(response.status).toBe(502);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers an error thrown in Nest middleware on platform-fastify (raw response)', async () => {
    @Injectable()
    class FailingMiddleware implements NestMiddleware {
      constructor(@Inject(GATEWAY_ERRORS_CONVENTIONS) readonly conventions: unknown) {}
      use(): void {
        throw refused();
      }
    }
    @Module({ imports: [GatewayErrorsModule.forRoot({ onError: false })], controllers: [OrdersController] })
    class MiddlewareModule implements NestModule {
      configure(consumer: MiddlewareConsumer): void {
        consumer.apply(FailingMiddleware).forRoutes('not-found');
      }
    }
    const app = await start(MiddlewareModule, 'fastify');
    const response = await request(url(app)).get('/not-found').set('x-request-id', 'mw-1');
    expect(response.status).toBe(502);
    expect(response.headers['x-request-id']).toBe('mw-1');
    expect(JSON.parse(response.text)).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', requestId: 'mw-1' });
  });

  it("hands other contexts to Nest: RPC errors as Nest's RPC filter answers them, unknown contexts' rethrown", async () => {
    const filter = new GatewayExceptionFilter({ httpAdapter: undefined } as unknown as HttpAdapterHost, { onError: false });
    const error = new Error('rpc failure');
    const host = (type: string) => ({ getType: () => type, getArgs: () => [] }) as never;
    await expect(lastValueFrom(filter.catch(new RpcException('Order 7 is locked.'), host('rpc')) as Observable<never>)).rejects.toEqual({
      status: 'error',
      message: 'Order 7 is locked.',
    });
    expect(() => filter.catch(error, host('kafka-streams'))).toThrow(error);
  });
});
