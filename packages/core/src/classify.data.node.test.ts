/**
 * Real errors of the database and RPC clients applications call (pg, ioredis,
 * node-redis, grpc-js), produced against fault servers on 127.0.0.1, and what
 * `classify` must make of them.
 */
import { once } from 'node:events';
import {
  HOST,
  createFaultClient,
  refusedPort,
  startFakeGrpc,
  startFakePostgres,
  startFakeRedis,
  startSilentServer,
} from '@gateway-errors/fault-servers/protocols';
import type { FakeGrpc, FaultServer, PostgresFault, RedisFault } from '@gateway-errors/fault-servers/protocols';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import type { Classification } from './classify.js';

const GET = { method: 'GET' } as const;
const POST = { method: 'POST' } as const;
/** Upper bound for any single client operation in this suite. */
const GUARD_MS = 3000;

const noop = (): void => undefined;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** Resources opened by the running test, released after it whatever happened. */
const disposers: (() => unknown)[] = [];

function track<T>(resource: T, dispose: (resource: T) => unknown): T {
  disposers.push(() => dispose(resource));
  return resource;
}

afterEach(async () => {
  const pending = disposers.splice(0).reverse();
  for (const dispose of pending) {
    try {
      await dispose();
    } catch {
      // Already closed.
    }
  }
});

class GuardTimeout extends Error {}

/** `promise`, failing the test if it takes longer than the guard. */
async function within<T>(promise: Promise<T>, guardMs = GUARD_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GuardTimeout(`client did not settle within ${guardMs} ms`)), guardMs);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** The rejection of `promise`; fails the test if it resolves or takes longer than the guard. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await within(promise);
  } catch (error) {
    if (error instanceof GuardTimeout) throw error;
    return error;
  }
  throw new Error('expected the client call to fail');
}

const SHAPE_KEYS = ['name', 'code', 'errno', 'syscall', 'severity', 'details', 'message'] as const;

/** A readable description of an error and its cause chain, shown when an assertion fails. */
function shape(error: unknown): string {
  const parts: string[] = [];
  let node: unknown = error;
  for (let depth = 0; depth < 5 && typeof node === 'object' && node !== null; depth++) {
    const record = node as Record<string, unknown>;
    const fields: string[] = [`ctor=${(node as object).constructor?.name ?? 'null-proto'}`];
    for (const key of SHAPE_KEYS) {
      const value = record[key];
      if (value !== undefined) fields.push(`${key}=${JSON.stringify(value)}`);
    }
    const extra = Object.getOwnPropertyNames(node).filter(
      (key) => !(SHAPE_KEYS as readonly string[]).includes(key) && key !== 'stack' && key !== 'cause',
    );
    if (extra.length > 0) fields.push(`own=[${extra.join(',')}]`);
    parts.push(fields.join(' '));
    node = record['cause'];
  }
  if (parts.length === 0) parts.push(`non-object ${String(error)}`);
  return parts.join(' <- cause: ');
}

type Expected = Pick<Classification, 'status' | 'code' | 'reachedUpstream' | 'proxyError' | 'retryable'>;

/** Asserts the classification and, on failure, prints the real error's shape. */
function expectClassified(error: unknown, request: { readonly method: string }, expected: Expected): void {
  const actual = classify(error, request);
  const picked: Expected = {
    status: actual.status,
    code: actual.code,
    reachedUpstream: actual.reachedUpstream,
    proxyError: actual.proxyError,
    retryable: actual.retryable,
  };
  expect(picked, `real error: ${shape(error)}`).toEqual(expected);
}

const INTERNAL: Expected = {
  status: 500,
  code: 'INTERNAL_ERROR',
  reachedUpstream: true,
  proxyError: 'proxy_internal_error',
  retryable: false,
};

// ---------------------------------------------------------------------------
// pg (node-postgres)
// ---------------------------------------------------------------------------

describe('pg', () => {
  let refused: number;
  let silent: FaultServer;

  beforeAll(async () => {
    refused = await refusedPort();
    silent = await startSilentServer();
  });

  afterAll(async () => {
    await silent.close();
  });

  async function fakePostgres(fault: PostgresFault): Promise<FaultServer> {
    return track(await startFakePostgres(fault), (server) => server.close());
  }

  function client(port: number, config: pg.ClientConfig = {}): pg.Client {
    const created = new pg.Client({ host: HOST, port, user: 'app', database: 'app', ...config });
    created.on('error', noop);
    return track(created, (c) => c.end().catch(noop));
  }

  /** Connects a client to a fake server and returns the error of one query. */
  async function queryError(fault: PostgresFault, config: pg.ClientConfig = {}): Promise<unknown> {
    const server = await fakePostgres(fault);
    const c = client(server.port, config);
    await c.connect();
    return rejectionOf(c.query('SELECT 1'));
  }

  it('connection refused: 502 UPSTREAM_UNREACHABLE, never reached', async () => {
    const error = await rejectionOf(client(refused).connect());
    expectClassified(error, POST, {
      status: 502,
      code: 'UPSTREAM_UNREACHABLE',
      reachedUpstream: false,
      proxyError: 'connection_refused',
      retryable: true,
    });
  });

  it('connection lost mid-query: 502 UPSTREAM_CONNECTION_LOST', async () => {
    const error = await queryError({ kind: 'close-on-query' });
    expect(error).toMatchObject({ message: 'Connection terminated unexpectedly' });
    const expected: Expected = {
      status: 502,
      code: 'UPSTREAM_CONNECTION_LOST',
      reachedUpstream: true,
      proxyError: 'connection_terminated',
      retryable: true,
    };
    expectClassified(error, GET, expected);
    expectClassified(error, POST, { ...expected, retryable: false });
  });

  it('53300 too_many_connections at startup: 503 UPSTREAM_UNAVAILABLE, never reached', async () => {
    const server = await fakePostgres({ kind: 'refuse-at-startup', sqlstate: '53300' });
    const error = await rejectionOf(client(server.port).connect());
    expect(error).toMatchObject({ code: '53300', severity: 'FATAL' });
    expectClassified(error, POST, {
      status: 503,
      code: 'UPSTREAM_UNAVAILABLE',
      reachedUpstream: false,
      proxyError: 'connection_limit_reached',
      retryable: true,
    });
  });

  it.each(['53100', '53200'])('class 53 %s on a query: 503 UPSTREAM_UNAVAILABLE', async (sqlstate) => {
    const error = await queryError({ kind: 'reply-with-error', sqlstate });
    expect(error).toMatchObject({ code: sqlstate, severity: 'ERROR' });
    expectClassified(error, POST, {
      status: 503,
      code: 'UPSTREAM_UNAVAILABLE',
      reachedUpstream: true,
      proxyError: 'destination_unavailable',
      retryable: true,
    });
  });

  it.each(['57P01', '57P02'])('%s (server shutting down) mid-query: 503 UPSTREAM_UNAVAILABLE', async (sqlstate) => {
    const error = await queryError({ kind: 'reply-with-error', sqlstate, severity: 'FATAL', thenClose: true });
    expect(error).toMatchObject({ code: sqlstate, severity: 'FATAL' });
    expectClassified(error, POST, {
      status: 503,
      code: 'UPSTREAM_UNAVAILABLE',
      reachedUpstream: true,
      proxyError: 'destination_unavailable',
      retryable: true,
    });
  });

  it('57P03 cannot_connect_now at startup: 503 UPSTREAM_UNAVAILABLE, never reached', async () => {
    const server = await fakePostgres({ kind: 'refuse-at-startup', sqlstate: '57P03' });
    const error = await rejectionOf(client(server.port).connect());
    expect(error).toMatchObject({ code: '57P03', severity: 'FATAL' });
    expectClassified(error, POST, {
      status: 503,
      code: 'UPSTREAM_UNAVAILABLE',
      reachedUpstream: false,
      proxyError: 'destination_unavailable',
      retryable: true,
    });
  });

  it('57014 statement timeout: 504 UPSTREAM_TIMEOUT', async () => {
    const error = await queryError({ kind: 'reply-with-error', sqlstate: '57014' });
    expect(error).toMatchObject({ code: '57014' });
    const expected: Expected = {
      status: 504,
      code: 'UPSTREAM_TIMEOUT',
      reachedUpstream: true,
      proxyError: 'http_response_timeout',
      retryable: true,
    };
    expectClassified(error, GET, expected);
    expectClassified(error, POST, { ...expected, retryable: false });
  });

  it('pool acquire timeout (max 1, client checked out): 503 UPSTREAM_UNAVAILABLE, never reached', async () => {
    const server = await fakePostgres({ kind: 'ok' });
    const pool = new pg.Pool({ host: HOST, port: server.port, user: 'app', max: 1, connectionTimeoutMillis: 200 });
    pool.on('error', noop);
    track(pool, (p) => p.end());
    const held = await pool.connect();
    track(held, (c) => c.release());
    const error = await rejectionOf(pool.connect());
    expect(error).toMatchObject({ message: 'timeout exceeded when trying to connect' });
    expectClassified(error, POST, {
      status: 503,
      code: 'UPSTREAM_UNAVAILABLE',
      reachedUpstream: false,
      proxyError: 'connection_limit_reached',
      retryable: true,
    });
  });

  const CONNECT_TIMEOUT: Expected = {
    status: 504,
    code: 'UPSTREAM_TIMEOUT',
    reachedUpstream: false,
    proxyError: 'connection_timeout',
    retryable: true,
  };

  it('Client connectionTimeoutMillis, startup never answered: 504 UPSTREAM_TIMEOUT, never reached', async () => {
    const error = await rejectionOf(client(silent.port, { connectionTimeoutMillis: 200 }).connect());
    expectClassified(error, POST, CONNECT_TIMEOUT);
  });

  it('Pool connectionTimeoutMillis, startup never answered: 504 UPSTREAM_TIMEOUT, never reached', async () => {
    const pool = new pg.Pool({ host: HOST, port: silent.port, user: 'app', connectionTimeoutMillis: 200 });
    pool.on('error', noop);
    track(pool, (p) => p.end());
    const error = await rejectionOf(pool.query('SELECT 1'));
    expect(error).toMatchObject({ message: 'Connection terminated due to connection timeout' });
    expectClassified(error, POST, CONNECT_TIMEOUT);
  });

  it('query_timeout on a hanging query: 504 UPSTREAM_TIMEOUT', async () => {
    const error = await queryError({ kind: 'hang-on-query' }, { query_timeout: 200 });
    expect(error).toMatchObject({ message: 'Query read timeout' });
    const expected: Expected = {
      status: 504,
      code: 'UPSTREAM_TIMEOUT',
      reachedUpstream: true,
      proxyError: 'http_response_timeout',
      retryable: true,
    };
    expectClassified(error, GET, expected);
    expectClassified(error, POST, { ...expected, retryable: false });
  });

  it.each(['42601', '23505'])('%s (an application bug) stays 500 INTERNAL_ERROR', async (sqlstate) => {
    const error = await queryError({ kind: 'reply-with-error', sqlstate });
    expect(error).toBeInstanceOf(pg.DatabaseError);
    expect(error).toMatchObject({ code: sqlstate, severity: 'ERROR' });
    expectClassified(error, GET, INTERNAL);
  });
});

// ---------------------------------------------------------------------------
// Redis: shared expectations
// ---------------------------------------------------------------------------

const CLOSED_CLIENT: Expected = {
  status: 503,
  code: 'UPSTREAM_UNAVAILABLE',
  reachedUpstream: false,
  proxyError: 'destination_unavailable',
  retryable: true,
};

/**
 * ioredis rejects with the same plain `Error("Connection is closed.")` or
 * `MaxRetriesPerRequestError` both the commands it never wrote and the commands
 * in flight when the connection dropped, so these errors cannot prove that the
 * server never saw the command.
 */
const CLOSED_MAYBE_SENT: Expected = {
  status: 503,
  code: 'UPSTREAM_UNAVAILABLE',
  reachedUpstream: true,
  proxyError: 'destination_unavailable',
  retryable: true,
};

const BUSY_REPLIES = [
  'LOADING Redis is loading the dataset in memory',
  'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
  "READONLY You can't write against a read only replica.",
];

const BUSY_REPLY: Expected = {
  status: 503,
  code: 'UPSTREAM_UNAVAILABLE',
  reachedUpstream: true,
  proxyError: 'destination_unavailable',
  retryable: true,
};

const ORDINARY_REPLIES = [
  "ERR wrong number of arguments for 'get' command",
  'WRONGTYPE Operation against a key holding the wrong kind of value',
];

const COMMAND_TIMEOUT: Expected = {
  status: 504,
  code: 'UPSTREAM_TIMEOUT',
  reachedUpstream: true,
  proxyError: 'http_response_timeout',
  retryable: true,
};

const LOST_MID_COMMAND: Expected = {
  status: 502,
  code: 'UPSTREAM_CONNECTION_LOST',
  reachedUpstream: true,
  proxyError: 'connection_terminated',
  retryable: false,
};

// ---------------------------------------------------------------------------
// ioredis
// ---------------------------------------------------------------------------

describe('ioredis', () => {
  let refused: number;

  beforeAll(async () => {
    refused = await refusedPort();
  });

  function redis(port: number, options: Pick<RedisOptions, 'enableOfflineQueue' | 'retryStrategy' | 'commandTimeout'> = {}): Redis {
    const created = new Redis({
      host: HOST,
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
      ...options,
    });
    created.on('error', noop);
    return track(created, (client) => client.disconnect());
  }

  async function fakeRedis(fault: RedisFault): Promise<FaultServer> {
    return track(await startFakeRedis(fault), (server) => server.close());
  }

  it('enableOfflineQueue: false against a refused port: 503 UPSTREAM_UNAVAILABLE, never reached', async () => {
    const client = redis(refused, { enableOfflineQueue: false });
    client.connect().catch(noop);
    const error = await rejectionOf(client.get('k'));
    expect(error).toMatchObject({ message: "Stream isn't writeable and enableOfflineQueue options is false" });
    expectClassified(error, POST, CLOSED_CLIENT);
  });

  it('connect() against a refused port rejects with "Connection is closed.": 503 UPSTREAM_UNAVAILABLE', async () => {
    const error = await rejectionOf(redis(refused).connect());
    expect(error).toMatchObject({ message: 'Connection is closed.' });
    expectClassified(error, POST, CLOSED_MAYBE_SENT);
  });

  it('the refused connection surfaces ECONNREFUSED only as an error event: 502 UPSTREAM_UNREACHABLE', async () => {
    const client = redis(refused);
    const emitted = once(client, 'error');
    client.connect().catch(noop);
    const [error] = (await within(emitted)) as [unknown];
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expectClassified(error, POST, {
      status: 502,
      code: 'UPSTREAM_UNREACHABLE',
      reachedUpstream: false,
      proxyError: 'connection_refused',
      retryable: true,
    });
  });

  it('a queued command when the refused connection gives up ("Connection is closed."): 503 UPSTREAM_UNAVAILABLE', async () => {
    const client = redis(refused);
    client.connect().catch(noop);
    const error = await rejectionOf(client.get('k'));
    expect(error).toMatchObject({ message: 'Connection is closed.' });
    expectClassified(error, POST, CLOSED_MAYBE_SENT);
  });

  it('a queued command when maxRetriesPerRequest runs out while reconnecting: 503 UPSTREAM_UNAVAILABLE', async () => {
    const client = redis(refused, { retryStrategy: () => 50 });
    client.connect().catch(noop);
    const error = await rejectionOf(client.get('k'));
    expect(error).toMatchObject({ name: 'MaxRetriesPerRequestError' });
    expectClassified(error, POST, CLOSED_MAYBE_SENT);
  });

  it('a command after disconnect() ("Connection is closed."): 503 UPSTREAM_UNAVAILABLE', async () => {
    const server = await fakeRedis({ kind: 'ok' });
    const client = redis(server.port);
    await client.connect();
    expect(await client.get('k')).toBeNull();
    client.disconnect();
    const error = await rejectionOf(client.get('k'));
    expect(error).toMatchObject({ message: 'Connection is closed.' });
    expectClassified(error, POST, CLOSED_MAYBE_SENT);
  });

  it('commandTimeout against a server that never answers: 504 UPSTREAM_TIMEOUT', async () => {
    const server = await fakeRedis({ kind: 'hang' });
    const client = redis(server.port, { commandTimeout: 200 });
    await client.connect();
    const error = await rejectionOf(client.get('k'));
    expect(error).toMatchObject({ message: 'Command timed out' });
    expectClassified(error, GET, COMMAND_TIMEOUT);
    expectClassified(error, POST, { ...COMMAND_TIMEOUT, retryable: false });
  });

  it('the server closes the connection mid-command, no reconnect ("Connection is closed."): reached the server', async () => {
    const server = await startFakeRedis({ kind: 'close' });
    track(server, (s) => s.close());
    const client = redis(server.port);
    await client.connect();
    const error = await rejectionOf(client.set('k', 'v'));
    expect(server.commands).toEqual([['set', 'k', 'v']]);
    expect(error).toMatchObject({ message: 'Connection is closed.' });
    expectClassified(error, POST, CLOSED_MAYBE_SENT);
  });

  it('the server closes the connection mid-command while reconnecting (MaxRetriesPerRequestError): reached the server', async () => {
    const server = await startFakeRedis({ kind: 'close' });
    track(server, (s) => s.close());
    const client = redis(server.port, { retryStrategy: () => 50 });
    await client.connect();
    const error = await rejectionOf(client.set('k', 'v'));
    expect(server.commands).toEqual([['set', 'k', 'v']]);
    expect(error).toMatchObject({ name: 'MaxRetriesPerRequestError' });
    expectClassified(error, POST, CLOSED_MAYBE_SENT);
  });

  it.each(BUSY_REPLIES)('error reply "%s": 503 UPSTREAM_UNAVAILABLE', async (reply) => {
    const server = await fakeRedis({ kind: 'reply-error', error: reply });
    const client = redis(server.port);
    await client.connect();
    const error = await rejectionOf(client.set('k', 'v'));
    expect(error).toMatchObject({ name: 'ReplyError', message: reply });
    expectClassified(error, POST, BUSY_REPLY);
  });

  it.each(ORDINARY_REPLIES)('error reply "%s" stays 500 INTERNAL_ERROR', async (reply) => {
    const server = await fakeRedis({ kind: 'reply-error', error: reply });
    const client = redis(server.port);
    await client.connect();
    const error = await rejectionOf(client.get('k'));
    expect(error).toMatchObject({ name: 'ReplyError', message: reply });
    expectClassified(error, GET, INTERNAL);
  });
});

// ---------------------------------------------------------------------------
// node-redis (redis v6)
// ---------------------------------------------------------------------------

describe('node-redis', () => {
  let refused: number;
  let silent: FaultServer;

  beforeAll(async () => {
    refused = await refusedPort();
    silent = await startSilentServer();
  });

  afterAll(async () => {
    await silent.close();
  });

  type ClientOptions = NonNullable<Parameters<typeof createClient>[0]>;
  type SocketOptions = NonNullable<ClientOptions['socket']>;

  function redis(port: number, options: Omit<ClientOptions, 'socket'> = {}, socket: Partial<SocketOptions> = {}) {
    const created = createClient({
      ...options,
      socket: { host: HOST, port, reconnectStrategy: false, connectTimeout: 1000, ...socket } as SocketOptions,
    });
    created.on('error', noop);
    return track(created, (client) => {
      if (client.isOpen) client.destroy();
    });
  }

  async function fakeRedis(fault: RedisFault): Promise<FaultServer> {
    return track(await startFakeRedis(fault), (server) => server.close());
  }

  it('a command on a client that was never connected (ClientClosedError): 503 UPSTREAM_UNAVAILABLE', async () => {
    const client = redis(refused);
    const error = await rejectionOf(client.get('k'));
    expect(error).toMatchObject({ message: 'The client is closed' });
    expectClassified(error, POST, CLOSED_CLIENT);
  });

  it('a command after quit() (ClientClosedError): 503 UPSTREAM_UNAVAILABLE', async () => {
    const server = await fakeRedis({ kind: 'ok' });
    const client = redis(server.port);
    await client.connect();
    expect(await client.get('k')).toBeNull();
    await client.quit();
    const error = await rejectionOf(client.get('k'));
    expect(error).toMatchObject({ message: 'The client is closed' });
    expectClassified(error, POST, CLOSED_CLIENT);
  });

  it('a command after destroy() (ClientClosedError): 503 UPSTREAM_UNAVAILABLE', async () => {
    const server = await fakeRedis({ kind: 'ok' });
    const client = redis(server.port);
    await client.connect();
    client.destroy();
    const error = await rejectionOf(client.get('k'));
    expect(error).toMatchObject({ message: 'The client is closed' });
    expectClassified(error, POST, CLOSED_CLIENT);
  });

  it('disableOfflineQueue while still connecting (ClientOfflineError): 503 UPSTREAM_UNAVAILABLE', async () => {
    const client = redis(silent.port, { disableOfflineQueue: true });
    client.connect().catch(noop);
    const error = await rejectionOf(client.get('k'));
    expect(error).toMatchObject({ message: 'The client is offline' });
    expectClassified(error, POST, CLOSED_CLIENT);
  });

  it('connect() against a refused port surfaces ECONNREFUSED: 502 UPSTREAM_UNREACHABLE', async () => {
    const error = await rejectionOf(redis(refused).connect());
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expectClassified(error, POST, {
      status: 502,
      code: 'UPSTREAM_UNREACHABLE',
      reachedUpstream: false,
      proxyError: 'connection_refused',
      retryable: true,
    });
  });

  it('socket.socketTimeout against a server that never answers: 504 UPSTREAM_TIMEOUT', async () => {
    const server = await fakeRedis({ kind: 'hang' });
    const client = redis(server.port, {}, { socketTimeout: 300 });
    await client.connect();
    const error = await rejectionOf(client.get('k'));
    expect(error).toMatchObject({ message: expect.stringMatching(/^Socket timeout timeout\./) as unknown });
    expectClassified(error, GET, COMMAND_TIMEOUT);
    expectClassified(error, POST, { ...COMMAND_TIMEOUT, retryable: false });
  });

  it('commandOptions.timeout of a command queued while reconnecting (TimeoutError): 504 UPSTREAM_TIMEOUT', async () => {
    const client = redis(refused, { commandOptions: { timeout: 200 } }, { reconnectStrategy: () => 50 });
    client.connect().catch(noop);
    const error = await rejectionOf(client.get('k'));
    expectClassified(error, GET, COMMAND_TIMEOUT);
  });

  it('the server closes the connection mid-command: 502 UPSTREAM_CONNECTION_LOST, reached', async () => {
    const server = await fakeRedis({ kind: 'close' });
    const client = redis(server.port);
    await client.connect();
    const error = await rejectionOf(client.set('k', 'v'));
    expectClassified(error, POST, LOST_MID_COMMAND);
  });

  it.each(BUSY_REPLIES)('error reply "%s": 503 UPSTREAM_UNAVAILABLE', async (reply) => {
    const server = await fakeRedis({ kind: 'reply-error', error: reply });
    const client = redis(server.port);
    await client.connect();
    const error = await rejectionOf(client.set('k', 'v'));
    expect(error).toMatchObject({ message: reply });
    expectClassified(error, POST, BUSY_REPLY);
  });

  it.each(ORDINARY_REPLIES)('error reply "%s" stays 500 INTERNAL_ERROR', async (reply) => {
    const server = await fakeRedis({ kind: 'reply-error', error: reply });
    const client = redis(server.port);
    await client.connect();
    const error = await rejectionOf(client.get('k'));
    expect(error).toMatchObject({ message: reply });
    expectClassified(error, GET, INTERNAL);
  });
});

// ---------------------------------------------------------------------------
// gRPC (@grpc/grpc-js)
// ---------------------------------------------------------------------------

describe('grpc-js', () => {
  let server: FakeGrpc;
  let refused: number;

  beforeAll(async () => {
    server = await startFakeGrpc();
    refused = await refusedPort();
  });

  afterAll(async () => {
    await server.close();
  });

  function client(target = server.target) {
    return track(createFaultClient(target), (c) => c.close());
  }

  it('DEADLINE_EXCEEDED: 504 UPSTREAM_TIMEOUT', async () => {
    const { settled } = client().unary('hang', { deadline: Date.now() + 200 });
    const error = await settled;
    expect(error).toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    expectClassified(error, GET, COMMAND_TIMEOUT);
    expectClassified(error, POST, { ...COMMAND_TIMEOUT, retryable: false });
  });

  it('UNAVAILABLE from the server: 503 UPSTREAM_UNAVAILABLE, reached', async () => {
    const error = await client().unary(grpc.status.UNAVAILABLE, { deadline: Date.now() + GUARD_MS }).settled;
    expect(error).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expectClassified(error, POST, BUSY_REPLY);
  });

  it('UNAVAILABLE "No connection established" (refused port): 503 UPSTREAM_UNAVAILABLE, never reached', async () => {
    const error = await client(`${HOST}:${refused}`).unary('ok', { deadline: Date.now() + GUARD_MS }).settled;
    expect(error).toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringMatching(/^No connection established/) as unknown,
    });
    expectClassified(error, POST, CLOSED_CLIENT);
  });

  it('RESOURCE_EXHAUSTED: 503 UPSTREAM_UNAVAILABLE', async () => {
    const error = await client().unary(grpc.status.RESOURCE_EXHAUSTED, { deadline: Date.now() + GUARD_MS }).settled;
    expect(error).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    expectClassified(error, POST, {
      status: 503,
      code: 'UPSTREAM_UNAVAILABLE',
      reachedUpstream: true,
      proxyError: 'connection_limit_reached',
      retryable: true,
    });
  });

  it('CANCELLED by call.cancel(): 499 CLIENT_CLOSED_REQUEST', async () => {
    const { call, settled } = client().unary('hang', { deadline: Date.now() + GUARD_MS });
    setTimeout(() => call.cancel(), 50);
    const error = await settled;
    expect(error).toMatchObject({ code: grpc.status.CANCELLED });
    expectClassified(error, GET, {
      status: 499,
      code: 'CLIENT_CLOSED_REQUEST',
      reachedUpstream: true,
      proxyError: undefined,
      retryable: false,
    });
  });

  it.each([grpc.status.INTERNAL, grpc.status.NOT_FOUND])('status %i: 502 UPSTREAM_ERROR_STATUS', async (code) => {
    const error = await client().unary(code, { deadline: Date.now() + GUARD_MS }).settled;
    expect(error).toMatchObject({ code });
    expectClassified(error, POST, {
      status: 502,
      code: 'UPSTREAM_ERROR_STATUS',
      reachedUpstream: true,
      proxyError: undefined,
      retryable: false,
    });
  });
});
