/**
 * Upstreams that fail on purpose: small `node:net`, `node:http` and `node:https`
 * servers bound to 127.0.0.1 on an ephemeral port, each misbehaving in one
 * well-defined way. Every server tracks its sockets and destroys them on
 * `close()`, so a test run never leaves a connection behind.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { HOST, listen } from './listen.js';
import type { FaultServer } from './listen.js';

export { HOST, refusedPort } from './listen.js';
export type { FaultServer } from './listen.js';

/** A TLS fault server, with the PEM certificate it presents (to trust it through `ca`). */
export interface TlsFaultServer extends FaultServer {
  readonly cert: string;
}

/** The blackhole: a listener that never accepts, so new connections hang in the TCP handshake. */
export interface Blackhole extends FaultServer {
  /** How many filler connections fill the accept queue. */
  readonly fillers: number;
}

/** Calls `onRequest` once the head of the first request (up to the blank line) has arrived. */
function onRequestHead(onRequest: (socket: Socket) => void): NetServer {
  return createNetServer((socket) => {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      // Keep draining a request body so the client never blocks on writing it.
      socket.resume();
      onRequest(socket);
    };
    socket.on('data', onData);
  });
}

/** Reads the request, then closes its side of the connection (FIN) without answering. */
export function finServer(): Promise<FaultServer> {
  return listen(
    onRequestHead((socket) => socket.end()),
    'http',
  );
}

/** Reads the request, then resets the connection (RST) without answering. */
export function resetServer(): Promise<FaultServer> {
  return listen(
    onRequestHead((socket) => socket.resetAndDestroy()),
    'http',
  );
}

/** Reads the request, then answers with bytes that are not HTTP and closes. */
export function garbageServer(): Promise<FaultServer> {
  return listen(
    onRequestHead((socket) => socket.end('THIS IS NOT HTTP\r\n\r\n')),
    'http',
  );
}

/** A 200 announcing `Content-Length: 100` that sends 11 bytes of body, then closes (FIN). */
export function truncatedServer(): Promise<FaultServer> {
  return listen(
    onRequestHead((socket) => {
      socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nhello world');
    }),
    'http',
  );
}

/** Reads the request and never answers, keeping the connection open. */
export function hangServer(): Promise<FaultServer> {
  return listen(
    onRequestHead(() => {}),
    'http',
  );
}

/** A 200 with `Content-Length: 100`: headers and 11 bytes of body, then silence with the connection open. */
export function bodyStallServer(): Promise<FaultServer> {
  return listen(
    onRequestHead((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nhello world');
    }),
    'http',
  );
}

/**
 * An HTTP server with the routes `/status/:code`, answering that status (with
 * `Retry-After: 7` on 503 and 429), `/delay/:ms`, answering a 200 after `ms`
 * milliseconds (at most 10 s) whether or not the client still waits, and
 * `/json-bad`, answering a 200 `application/json` whose body is not JSON.
 * Anything else is a 200.
 */
export function statusServer(): Promise<FaultServer> {
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const match = /^\/status\/(\d{3})$/.exec(path);
    req.resume();
    if (match !== null) {
      const status = Number(match[1]);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (status === 503 || status === 429) headers['retry-after'] = '7';
      res.writeHead(status, headers).end(JSON.stringify({ status }));
      return;
    }
    const delay = /^\/delay\/(\d{1,5})$/.exec(path);
    if (delay !== null) {
      // A late answer, written even to a client that gave up: that is the fault.
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), Math.min(Number(delay[1]), 10_000));
      return;
    }
    if (path === '/json-bad') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"a": oops');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  return listen(server, 'http');
}

interface Certificate {
  readonly key: string;
  readonly cert: string;
}

const fixtures = new URL('./fixtures/', import.meta.url);
let certificate: Certificate | undefined;

/**
 * The self-signed certificate the TLS server presents: `CN=localhost`, valid
 * for the name `localhost` only (not for `127.0.0.1`), until 2126.
 */
export function selfSignedCertificate(): Certificate {
  certificate ??= {
    key: readFileSync(new URL('self-signed.key', fixtures), 'utf8'),
    cert: readFileSync(new URL('self-signed.crt', fixtures), 'utf8'),
  };
  return certificate;
}

/**
 * An https server presenting the self-signed `CN=localhost` certificate and
 * answering 200. With `selfSigned: true` a client that trusts only the system
 * CAs fails with `DEPTH_ZERO_SELF_SIGNED_CERT`. Trusting `cert` through `ca`
 * gets past the chain check, and reaching it as `127.0.0.1` then fails the
 * host name check (`ERR_TLS_CERT_ALTNAME_INVALID`).
 */
export async function tlsServer({ selfSigned }: { selfSigned: true }): Promise<TlsFaultServer> {
  if (!selfSigned) throw new TypeError('tlsServer: only self-signed certificates are supported');
  const { key, cert } = selfSignedCertificate();
  const server = createHttpsServer({ key, cert }, (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  // Failed handshakes are the point of this server.
  server.on('tlsClientError', () => {});
  return { ...(await listen(server, 'https')), cert };
}

const BLACKHOLE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const server = net.createServer();
server.on('error', (error) => parentPort.postMessage({ error: String(error) }));
server.listen({ host: workerData.host, port: 0, backlog: 1 }, () => {
  parentPort.postMessage({ port: server.address().port });
  // Block this thread's event loop: the listener exists but accept() is never called.
  Atomics.wait(workerData.flag, 0, 0);
  server.close();
  process.exit(0);
});
`;

function connectWithin(port: number, ms: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/**
 * A listener that never accepts: it runs in a worker thread whose event loop
 * is blocked in `Atomics.wait` right after `listen()` with a backlog of 1.
 * Filler connections fill the kernel's accept queue; after that the kernel
 * drops new SYNs, so a client's connect attempt hangs until its own connect
 * timeout fires. Throws when connects do not hang on this machine.
 */
export async function blackhole(): Promise<Blackhole> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(BLACKHOLE_WORKER, { eval: true, workerData: { host: HOST, flag } });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const fillers: Socket[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const socket of fillers) socket.destroy();
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    })();
    return closing;
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (message: { port?: number; error?: string }) => {
        if (typeof message.port === 'number') resolve(message.port);
        else reject(new Error(`blackhole: ${message.error ?? 'no port'}`));
      });
    });
    // Fill the accept queue until a connection no longer completes its handshake.
    for (let i = 0; i < 8; i++) {
      const socket = await connectWithin(port, 300);
      if (socket === undefined) {
        return { url: `http://${HOST}:${port}`, port, fillers: fillers.length, close };
      }
      fillers.push(socket);
    }
    throw new Error(`blackhole: ${fillers.length} connections completed their handshake; connects do not hang here`);
  } catch (error) {
    await close();
    throw error;
  }
}
