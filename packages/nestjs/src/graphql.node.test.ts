/**
 * The module beside a real GraphQL server (Apollo through @nestjs/graphql, on both platforms), with
 * resolvers whose upstream calls really fail on 127.0.0.1: the failed fields carry the problem's
 * members as `extensions`, and nothing of the error reaches a production client.
 */
import 'reflect-metadata';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { ErrorReport } from '@gateway-errors/core';
import { refusedPort } from '@gateway-errors/fault-servers';
import { ApolloDriver } from '@nestjs/apollo';
import type { ApolloDriverConfig } from '@nestjs/apollo';
import { ConflictException, Controller, Get, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { GraphQLModule, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { GraphQLError } from 'graphql';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayErrorsModule, GatewayExceptionFilter } from './index.js';
import type { Conventions, ConventionsOptions } from './index.js';

const typeDefs = /* GraphQL */ `
  type Query {
    order(id: ID!): String
    slowOrder: String
    locked: String
    forbidden: String
  }
  type Mutation {
    pay: String
  }
`;

let refusedUrl = '';
let hangingUrl = '';
let hanging: Server;
const sockets = new Set<Socket>();

beforeAll(async () => {
  // A port outside the range `listen(0)` hands out refuses; a server that accepts and never answers hangs.
  refusedUrl = `http://127.0.0.1:${await refusedPort()}/orders/7`;
  hanging = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/orders/7`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => hanging.close(() => resolve()));
});

const callOrders = async (): Promise<string> => (await fetch(refusedUrl)).text();
const callSlowly = async (): Promise<string> => (await fetch(hangingUrl, { signal: AbortSignal.timeout(100) })).text();

@Resolver()
class OrdersResolver {
  @Query('order')
  order(): Promise<string> {
    return callOrders();
  }

  @Query('slowOrder')
  slowOrder(): Promise<string> {
    return callSlowly();
  }

  @Mutation('pay')
  pay(): Promise<string> {
    return callSlowly();
  }

  @Query('locked')
  locked(): never {
    throw new ConflictException('Order 7 is locked.');
  }

  @Query('forbidden')
  forbidden(): never {
    throw new GraphQLError('Not yours.', { extensions: { code: 'FORBIDDEN' } });
  }
}

@Controller()
class OrdersController {
  @Get('orders/7')
  order(): Promise<string> {
    return callOrders();
  }
}

interface Running {
  app: INestApplication;
  url: string;
  reports: ErrorReport[];
}

async function start(conventions: Conventions | ConventionsOptions): Promise<Running> {
  const reports: ErrorReport[] = [];
  @Module({
    imports: [
      GatewayErrorsModule.forRoot({ ...conventions, onError: (report) => void reports.push(report) }),
      GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs }),
    ],
    controllers: [OrdersController],
    providers: [OrdersResolver],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, reports };
}

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

async function graphql(url: string, query: string, id?: string): Promise<{ status: number; headers: Record<string, string>; text: string; body: GraphQLBody }> {
  const call = request(url).post('/graphql').set('content-type', 'application/json');
  if (id !== undefined) call.set('x-request-id', id);
  const response = await call.send({ query });
  return { status: response.status, headers: response.headers as Record<string, string>, text: response.text, body: JSON.parse(response.text) as GraphQLBody };
}

describe('GraphQL resolvers, production', () => {
  let running: Running;
  beforeAll(async () => {
    running = await start({ mode: 'production' });
  });
  afterAll(async () => {
    await running.app.close();
  });

  it('a refused upstream is a 502 problem in the field error, and nothing of the error leaves', async () => {
    const response = await graphql(running.url, '{ order(id: "7") }', 'gql-1');
    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toBe('gql-1');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body.data).toEqual({ order: null });
    expect(response.body.errors).toEqual([
      {
        message: 'An upstream service could not be reached.',
        locations: [{ line: 1, column: 3 }],
        path: ['order'],
        extensions: {
          type: 'urn:gateway-errors:upstream-unreachable',
          title: 'Upstream Unreachable',
          status: 502,
          code: 'UPSTREAM_UNREACHABLE',
          proxyStatus: 'connection_refused',
          requestId: 'gql-1',
          retryable: true,
        },
      },
    ]);
    const port = new URL(refusedUrl).port;
    expect(response.text).not.toMatch(new RegExp(`127\\.0\\.0\\.1|:${port}|ECONNREFUSED|fetch failed|stacktrace|orders/7`));
    expect(running.reports.at(-1)).toMatchObject({ requestId: 'gql-1', method: 'GET', path: '/graphql', classification: { status: 502 } });
  });

  it('a timed-out query may be retried; a timed-out mutation may not', async () => {
    const query = await graphql(running.url, '{ slowOrder }');
    expect(query.body.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_TIMEOUT', status: 504, retryable: true });
    const mutation = await graphql(running.url, 'mutation { pay }');
    expect(mutation.body.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_TIMEOUT', status: 504, retryable: false });
    expect(running.reports.at(-1)).toMatchObject({ method: 'POST', classification: { status: 504 } });
  });

  it('every failed field of a request carries the one request ID of its response', async () => {
    const response = await graphql(running.url, '{ order(id: "7") locked }');
    const ids = response.body.errors?.map((error) => error.extensions?.['requestId']);
    expect(ids).toHaveLength(2);
    expect(ids?.[0]).toBe(response.headers['x-request-id']);
    expect(ids?.[1]).toBe(response.headers['x-request-id']);
  });

  it("keeps a client error's status and message, and a GraphQLError as it was built", async () => {
    const locked = await graphql(running.url, '{ locked }');
    expect(locked.body.errors?.[0]).toMatchObject({ message: 'Order 7 is locked.', extensions: { status: 409, code: 'CONFLICT' } });
    const forbidden = await graphql(running.url, '{ forbidden }');
    expect(forbidden.body.errors?.[0]).toEqual({ message: 'Not yours.', locations: [{ line: 1, column: 3 }], path: ['forbidden'], extensions: { code: 'FORBIDDEN' } });
  });

  it('still answers HTTP routes of the same app with problems', async () => {
    const response = await request(running.url).get('/orders/7').set('x-request-id', 'rest-1');
    expect(response.status).toBe(502);
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(JSON.parse(response.text)).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', requestId: 'rest-1' });
  });
});

describe('GraphQL resolvers, development', () => {
  it('shows the cause chain in extensions.debug', async () => {
    const running = await start({ mode: 'development' });
    try {
      const response = await graphql(running.url, '{ order(id: "7") }', 'gql-dev');
      const extensions = response.body.errors?.[0]?.extensions;
      expect(extensions).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', requestId: 'gql-dev', debug: { name: 'TypeError', message: 'fetch failed' } });
      expect(JSON.stringify(extensions?.['debug'])).toContain('ECONNREFUSED');
    } finally {
      await running.app.close();
    }
  });
});

describe('GraphQL resolvers, the filter alone (no request-ID middleware)', () => {
  it('sets the request ID on the response itself, the same for every failed field', async () => {
    @Module({ imports: [GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs })], providers: [OrdersResolver] })
    class BareModule {}
    const app = await NestFactory.create(BareModule, new ExpressAdapter(), { logger: false });
    app.useGlobalFilters(new GatewayExceptionFilter(app.get(HttpAdapterHost), { onError: false }));
    await app.listen(0, '127.0.0.1');
    try {
      const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
      const response = await graphql(url, '{ order(id: "7") locked }');
      const id = response.headers['x-request-id'];
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.body.errors?.map((error) => error.extensions?.['requestId'])).toEqual([id, id]);
      const echoed = await graphql(url, '{ order(id: "7") }', 'gql-alone');
      expect(echoed.headers['x-request-id']).toBe('gql-alone');
      expect(echoed.body.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', requestId: 'gql-alone' });
    } finally {
      await app.close();
    }
  });
});

describe('GraphQL resolvers on platform-fastify', () => {
  it('answers a failed field as on platform-express, with the middleware\'s request ID', async () => {
    const reports: ErrorReport[] = [];
    @Module({
      imports: [
        GatewayErrorsModule.forRoot({ onError: (report) => void reports.push(report) }),
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs }),
      ],
      providers: [OrdersResolver],
    })
    class FastifyModule {}
    const app = await NestFactory.create(FastifyModule, new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
      const response = await graphql(url, '{ order(id: "7") locked }', 'gql-fastify');
      expect(response.status).toBe(200);
      expect(response.headers['x-request-id']).toBe('gql-fastify');
      const byField = new Map(response.body.errors?.map((error) => [error.path?.[0], error]));
      expect(byField.get('order')).toMatchObject({
        message: 'An upstream service could not be reached.',
        extensions: { code: 'UPSTREAM_UNREACHABLE', status: 502, requestId: 'gql-fastify', retryable: true },
      });
      expect(byField.get('locked')?.extensions).toMatchObject({ code: 'CONFLICT', requestId: 'gql-fastify' });
      expect(response.text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|fetch failed/);
      expect(reports.at(-1)).toMatchObject({ requestId: 'gql-fastify', path: '/graphql', classification: { status: 502 } });
    } finally {
      await app.close();
    }
  });
});
