/**
 * @module
 * Fault servers on 127.0.0.1 that speak just enough PostgreSQL (v3), Redis
 * (RESP2/RESP3) and gRPC for the real client libraries to produce their real
 * errors, and a TCP server that never says a word. Every server listens on
 * port 0 and `close()` destroys all of its sockets, so a suite leaves no
 * handles behind. A subpath of its own (`@gateway-errors/fault-servers/protocols`):
 * it loads gRPC, which the HTTP fault servers do not need.
 */
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HOST, listen } from './listen.js';
import type { FaultServer } from './listen.js';

export { HOST, refusedPort } from './listen.js';
export type { FaultServer } from './listen.js';

/** A server that accepts TCP connections and never writes a byte. */
export function startSilentServer(): Promise<FaultServer> {
  return listen(
    createServer((socket) => socket.resume()),
    'tcp',
  );
}

// ---------------------------------------------------------------------------
// PostgreSQL (frontend/backend protocol v3)
// ---------------------------------------------------------------------------

export type PostgresSeverity = 'ERROR' | 'FATAL' | 'PANIC';

export type PostgresFault =
  /** Startup succeeds; every query completes with no rows. */
  | { readonly kind: 'ok' }
  /** Startup succeeds; every query gets an ErrorResponse with this SQLSTATE. */
  | {
      readonly kind: 'reply-with-error';
      readonly sqlstate: string;
      readonly severity?: PostgresSeverity;
      readonly message?: string;
      /** End the connection right after the ErrorResponse, as the server does for FATAL errors. */
      readonly thenClose?: boolean;
    }
  /** Startup succeeds; queries are never answered. */
  | { readonly kind: 'hang-on-query' }
  /** Startup succeeds; the connection is closed as soon as a query arrives. */
  | { readonly kind: 'close-on-query' }
  /** The StartupMessage is answered with a FATAL ErrorResponse (e.g. 53300, 57P03), then the connection ends. */
  | { readonly kind: 'refuse-at-startup'; readonly sqlstate: string; readonly message?: string }
  /** TCP is accepted but the StartupMessage is never answered. */
  | { readonly kind: 'silent-at-startup' };

const SQLSTATE_MESSAGES: Readonly<Record<string, string>> = {
  '53100': 'could not extend file "base/16384/16385": No space left on device',
  '53200': 'out of memory',
  '53300': 'sorry, too many clients already',
  '57014': 'canceling statement due to statement timeout',
  '57P01': 'terminating connection due to administrator command',
  '57P02': 'terminating connection because of crash of another server process',
  '57P03': 'the database system is starting up',
  '42601': 'syntax error at or near "SELEC"',
  '23505': 'duplicate key value violates unique constraint "users_email_key"',
};

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

function pgMessage(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function cstring(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0])]);
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value, 0);
  return buffer;
}

/** An ErrorResponse with the fields S, V, C and M. */
export function postgresErrorResponse(severity: PostgresSeverity, sqlstate: string, message?: string): Buffer {
  const text = message ?? SQLSTATE_MESSAGES[sqlstate] ?? `fake error ${sqlstate}`;
  const fields = Buffer.concat([
    Buffer.from('S', 'latin1'),
    cstring(severity),
    Buffer.from('V', 'latin1'),
    cstring(severity),
    Buffer.from('C', 'latin1'),
    cstring(sqlstate),
    Buffer.from('M', 'latin1'),
    cstring(text),
    Buffer.from([0]),
  ]);
  return pgMessage('E', fields);
}

const READY_FOR_QUERY = pgMessage('Z', Buffer.from('I', 'latin1'));

function startupReply(): Buffer {
  const parameter = (name: string, value: string): Buffer => pgMessage('S', Buffer.concat([cstring(name), cstring(value)]));
  return Buffer.concat([
    pgMessage('R', int32(0)), // AuthenticationOk
    parameter('server_version', '16.4'),
    parameter('server_encoding', 'UTF8'),
    parameter('client_encoding', 'UTF8'),
    parameter('DateStyle', 'ISO, MDY'),
    parameter('integer_datetimes', 'on'),
    parameter('standard_conforming_strings', 'on'),
    pgMessage('K', Buffer.concat([int32(4242), int32(0x5eed)])), // BackendKeyData
    READY_FOR_QUERY,
  ]);
}

export interface FakePostgres extends FaultServer {
  /** The behaviour of connections; may be changed between tests. */
  fault: PostgresFault;
}

/**
 * A fake PostgreSQL server. It answers an SSLRequest or GSSENCRequest with `N`,
 * a StartupMessage with AuthenticationOk, ParameterStatus, BackendKeyData and
 * ReadyForQuery (unless the fault says otherwise), and a simple Query (or an
 * extended-protocol Sync) according to `fault`.
 */
export async function startFakePostgres(fault: PostgresFault): Promise<FakePostgres> {
  const state: { fault: PostgresFault } = { fault };
  const server = await listen(
    createServer((socket) => servePostgres(socket, () => state.fault)),
    'postgres',
  );
  return {
    url: server.url,
    port: server.port,
    close: () => server.close(),
    get fault() {
      return state.fault;
    },
    set fault(next: PostgresFault) {
      state.fault = next;
    },
  };
}

function servePostgres(socket: Socket, currentFault: () => PostgresFault): void {
  let buffer: Buffer = Buffer.alloc(0);
  let started = false;
  let silent = false;
  // Extended-protocol messages seen since the last Sync.
  let pending = { parse: false, bind: false, describe: false, execute: false };

  const answer = (): void => {
    const fault = currentFault();
    switch (fault.kind) {
      case 'ok': {
        const parts: Buffer[] = [];
        if (pending.parse) parts.push(pgMessage('1'));
        if (pending.bind) parts.push(pgMessage('2'));
        if (pending.describe) parts.push(pgMessage('n'));
        parts.push(pgMessage('C', cstring('SELECT 0')), READY_FOR_QUERY);
        socket.write(Buffer.concat(parts));
        return;
      }
      case 'reply-with-error': {
        const error = postgresErrorResponse(fault.severity ?? 'ERROR', fault.sqlstate, fault.message);
        if (fault.thenClose === true) {
          silent = true;
          socket.end(error);
        } else {
          socket.write(Buffer.concat([error, READY_FOR_QUERY]));
        }
        return;
      }
      case 'hang-on-query':
        silent = true;
        return;
      case 'close-on-query':
        silent = true;
        socket.end();
        return;
      default:
        return;
    }
  };

  const onStartupPacket = (packet: Buffer): void => {
    const code = packet.readInt32BE(4);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      socket.write('N');
      return;
    }
    if (code === CANCEL_REQUEST) {
      socket.end();
      return;
    }
    const fault = currentFault();
    if (fault.kind === 'silent-at-startup') {
      silent = true;
      return;
    }
    if (fault.kind === 'refuse-at-startup') {
      silent = true;
      socket.end(postgresErrorResponse('FATAL', fault.sqlstate, fault.message));
      return;
    }
    started = true;
    socket.write(startupReply());
  };

  const onMessage = (type: string): void => {
    switch (type) {
      case 'Q':
        pending = { parse: false, bind: false, describe: false, execute: false };
        answer();
        return;
      case 'P':
        pending.parse = true;
        return;
      case 'B':
        pending.bind = true;
        return;
      case 'D':
        pending.describe = true;
        return;
      case 'E':
        pending.execute = true;
        return;
      case 'S':
        answer();
        pending = { parse: false, bind: false, describe: false, execute: false };
        return;
      case 'X':
        silent = true;
        socket.end();
        return;
      default:
        return;
    }
  };

  socket.on('data', (chunk: Buffer) => {
    if (silent) return;
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (silent) return;
      if (!started) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const packet = buffer.subarray(0, length);
        buffer = buffer.subarray(length);
        onStartupPacket(packet);
        continue;
      }
      if (buffer.length < 5) return;
      const type = String.fromCharCode(buffer[0]!);
      const length = buffer.readInt32BE(1);
      if (buffer.length < length + 1) return;
      buffer = buffer.subarray(length + 1);
      onMessage(type);
    }
  });
}

// ---------------------------------------------------------------------------
// Redis (RESP2 / RESP3)
// ---------------------------------------------------------------------------

export type RedisFault =
  /** Data commands succeed (`GET` answers null, everything else `+OK`). */
  | { readonly kind: 'ok' }
  /** Data commands get this error reply, e.g. `LOADING Redis is loading the dataset in memory`. */
  | { readonly kind: 'reply-error'; readonly error: string }
  /** The first data command is never answered, nor anything after it on that connection. */
  | { readonly kind: 'hang' }
  /** The connection is closed when a data command arrives. */
  | { readonly kind: 'close' };

export interface FakeRedis extends FaultServer {
  /** The behaviour of data commands; may be changed between tests. */
  fault: RedisFault;
  /** Data commands received, as argument lists. */
  readonly commands: readonly (readonly string[])[];
}

/** Connection setup commands, always answered so that clients become ready. */
const HANDSHAKE = new Set(['HELLO', 'CLIENT', 'INFO', 'SELECT', 'AUTH', 'READONLY']);

const INFO_TEXT = ['# Server', 'redis_version:7.4.0', 'redis_mode:standalone', '', '# Persistence', 'loading:0', '', '# Replication', 'role:master', ''].join('\r\n');

function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

function helloReply(protocol: 2 | 3): string {
  const pairs: [string, string][] = [
    ['server', bulk('redis')],
    ['version', bulk('7.4.0')],
    ['proto', `:${protocol}\r\n`],
    ['id', ':1\r\n'],
    ['mode', bulk('standalone')],
    ['role', bulk('master')],
    ['modules', '*0\r\n'],
  ];
  const body = pairs.map(([key, value]) => bulk(key) + value).join('');
  return protocol === 3 ? `%${pairs.length}\r\n${body}` : `*${pairs.length * 2}\r\n${body}`;
}

/** Parses one RESP command (an array of bulk strings, or an inline command) from `buffer`. */
function parseRespCommand(buffer: Buffer): { args: string[]; rest: Buffer } | undefined {
  const lineEnd = buffer.indexOf('\r\n');
  if (lineEnd < 0) return undefined;
  if (buffer[0] !== 0x2a /* '*' */) {
    const line = buffer.subarray(0, lineEnd).toString('utf8').trim();
    return { args: line.length === 0 ? [] : line.split(/\s+/), rest: buffer.subarray(lineEnd + 2) };
  }
  const count = Number(buffer.subarray(1, lineEnd).toString('latin1'));
  let offset = lineEnd + 2;
  const args: string[] = [];
  for (let i = 0; i < count; i++) {
    const end = buffer.indexOf('\r\n', offset);
    if (end < 0) return undefined;
    const size = Number(buffer.subarray(offset + 1, end).toString('latin1'));
    const start = end + 2;
    if (buffer.length < start + size + 2) return undefined;
    args.push(buffer.subarray(start, start + size).toString('utf8'));
    offset = start + size + 2;
  }
  return { args, rest: buffer.subarray(offset) };
}

/**
 * A fake Redis server. HELLO (2 or 3), CLIENT SETINFO and friends, INFO and
 * SELECT are answered as a healthy Redis 7 would, so ioredis and node-redis
 * finish their handshake; data commands follow `fault`.
 */
export async function startFakeRedis(fault: RedisFault): Promise<FakeRedis> {
  const state: { fault: RedisFault } = { fault };
  const commands: string[][] = [];
  const server = await listen(
    createServer((socket) => serveRedis(socket, () => state.fault, commands)),
    'redis',
  );
  return {
    url: server.url,
    port: server.port,
    close: () => server.close(),
    commands,
    get fault() {
      return state.fault;
    },
    set fault(next: RedisFault) {
      state.fault = next;
    },
  };
}

function serveRedis(socket: Socket, currentFault: () => RedisFault, log: string[][]): void {
  let buffer: Buffer = Buffer.alloc(0);
  let protocol: 2 | 3 = 2;
  let silent = false;

  const handshake = (name: string, args: string[]): string => {
    switch (name) {
      case 'HELLO': {
        const requested = args[1];
        if (requested !== undefined && requested !== '2' && requested !== '3') {
          return '-NOPROTO sorry, this protocol version is not supported.\r\n';
        }
        if (requested === '3') protocol = 3;
        if (requested === '2') protocol = 2;
        return helloReply(protocol);
      }
      case 'INFO':
        return bulk(INFO_TEXT);
      default:
        return '+OK\r\n';
    }
  };

  const data = (name: string): string | undefined => {
    const fault = currentFault();
    switch (fault.kind) {
      case 'ok':
        if (name === 'GET') return protocol === 3 ? '_\r\n' : '$-1\r\n';
        if (name === 'PING') return '+PONG\r\n';
        return '+OK\r\n';
      case 'reply-error':
        return `-${fault.error}\r\n`;
      case 'hang':
        silent = true;
        return undefined;
      case 'close':
        silent = true;
        socket.end();
        return undefined;
      default:
        return undefined;
    }
  };

  socket.on('data', (chunk: Buffer) => {
    if (silent) return;
    buffer = Buffer.concat([buffer, chunk]);
    let out = '';
    for (;;) {
      const parsed = parseRespCommand(buffer);
      if (parsed === undefined) break;
      buffer = parsed.rest;
      const name = (parsed.args[0] ?? '').toUpperCase();
      if (name === '') continue;
      if (name === 'QUIT') {
        silent = true;
        socket.end(out + '+OK\r\n');
        return;
      }
      if (HANDSHAKE.has(name)) {
        out += handshake(name, parsed.args);
        continue;
      }
      log.push(parsed.args);
      const reply = data(name);
      if (reply !== undefined) out += reply;
      if (silent) break;
    }
    if (out.length > 0 && !socket.destroyed && socket.writable) socket.write(out);
  });
}

// ---------------------------------------------------------------------------
// gRPC
// ---------------------------------------------------------------------------

/** What the fault service does with one call: answer, fail with a status code, or never answer. */
export type GrpcFault = 'ok' | 'hang' | grpc.status;

export interface FaultRequest {
  /** `ok`, `hang` or a numeric status code as a string. */
  fault: string;
}

export interface FaultReply {
  ok: boolean;
}

const FAULT_PROTO: Parameters<typeof protoLoader.fromJSON>[0] = {
  nested: {
    faults: {
      nested: {
        FaultRequest: { fields: { fault: { type: 'string', id: 1 } } },
        FaultReply: { fields: { ok: { type: 'bool', id: 1 } } },
        Faults: {
          methods: {
            Unary: { requestType: 'FaultRequest', responseType: 'FaultReply', comment: 'Fails as the request says.' },
          },
        },
      },
    },
  },
};

const SERVICE_NAME = 'faults.Faults';

function faultServiceDefinition(): grpc.ServiceDefinition {
  const definition = protoLoader.fromJSON(FAULT_PROTO, { keepCase: true, defaults: true });
  return definition[SERVICE_NAME] as grpc.ServiceDefinition;
}

const DETAILS: Readonly<Partial<Record<number, string>>> = {
  [grpc.status.RESOURCE_EXHAUSTED]: 'quota exceeded: too many requests',
  [grpc.status.UNAVAILABLE]: 'service is shutting down',
  [grpc.status.INTERNAL]: 'internal server error',
  [grpc.status.NOT_FOUND]: 'order 42 not found',
};

export interface FakeGrpc extends FaultServer {
  /** `127.0.0.1:<port>`. */
  readonly target: string;
}

/** A real grpc-js server with one unary method whose behaviour the request chooses. */
export async function startFakeGrpc(): Promise<FakeGrpc> {
  const server = new grpc.Server();
  server.addService(faultServiceDefinition(), {
    Unary(call: grpc.ServerUnaryCall<FaultRequest, FaultReply>, callback: grpc.sendUnaryData<FaultReply>) {
      const fault = call.request.fault;
      if (fault === 'hang') return;
      if (fault === 'ok' || fault === '') {
        callback(null, { ok: true });
        return;
      }
      const code = Number(fault) as grpc.status;
      callback({ code, details: DETAILS[code] ?? `fault ${code}`, metadata: new grpc.Metadata() });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${HOST}:0`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  let closed = false;
  return {
    // gRPC without TLS: HTTP/2 in clear text.
    url: `http://${HOST}:${port}`,
    port,
    target: `${HOST}:${port}`,
    close() {
      if (!closed) {
        closed = true;
        server.forceShutdown();
      }
      return Promise.resolve();
    },
  };
}

export interface FaultClient {
  /** Starts a call; `settled` resolves with the error (or the reply), `call` can be cancelled. */
  unary(fault: GrpcFault, options?: grpc.CallOptions): { call: grpc.ClientUnaryCall; settled: Promise<unknown> };
  close(): void;
}

/** A grpc-js client of the fault service; `target` may be a refused port. */
export function createFaultClient(target: string): FaultClient {
  const Client = grpc.makeClientConstructor(faultServiceDefinition(), SERVICE_NAME);
  const client = new Client(target, grpc.credentials.createInsecure());
  const method = client['Unary'] as (
    request: FaultRequest,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, reply?: FaultReply) => void,
  ) => grpc.ClientUnaryCall;
  return {
    unary(fault, options = {}) {
      let call!: grpc.ClientUnaryCall;
      const settled = new Promise<unknown>((resolve) => {
        call = method.call(client, { fault: String(fault) }, options, (error, reply) => resolve(error ?? reply));
      });
      return { call, settled };
    },
    close() {
      client.close();
    },
  };
}
