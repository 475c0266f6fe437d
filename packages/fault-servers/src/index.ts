/**
 * @module
 * Upstreams that fail on purpose, on 127.0.0.1: a port that refuses, servers
 * that reset, close, send garbage, cut a body short, hang, stall mid-body,
 * answer an error status, or present a self-signed certificate. Every server
 * closes with all of its sockets, so tests and demos stop by themselves.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';

/** A running fault server. */
export interface FaultServer {
  /** `http://127.0.0.1:PORT` (or `https://` for TLS servers). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const fixtures = new URL('./fixtures/', import.meta.url);

/** The self-signed certificate and key the TLS server presents (CN=localhost, SAN localhost and 127.0.0.1). */
export function selfSignedCertificate(): { cert: string; key: string } {
  return {
    cert: readFileSync(new URL('self-signed.crt', fixtures), 'utf8'),
    key: readFileSync(new URL('self-signed.key', fixtures), 'utf8'),
  };
}

/** A port on 127.0.0.1 that was bound and closed again: connecting to it is refused. */
export async function refusedPort(): Promise<number> {
  const server = createNetServer();
  await listen(server);
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What a raw TCP fault server does with each connection once the request head has arrived. */
export type SocketFault = 'reset' | 'close' | 'garbage' | 'truncated' | 'hang' | 'stall-body';

/** A TCP server that reads an HTTP request and then misbehaves in one way. */
export function socketFault(fault: SocketFault): Promise<FaultServer> {
  return track(
    createNetServer((socket) => {
      socket.on('error', ignore);
      let seen = '';
      socket.on('data', (chunk: Buffer) => {
        if (seen.includes('\r\n\r\n')) return;
        seen += chunk.toString('latin1');
        if (seen.includes('\r\n\r\n')) misbehave(socket, fault);
      });
    }),
    'http',
  );
}

function misbehave(socket: Socket, fault: SocketFault): void {
  switch (fault) {
    case 'reset':
      socket.resetAndDestroy();
      return;
    case 'close':
      socket.end();
      return;
    case 'garbage':
      socket.end('THIS IS NOT HTTP\r\n\r\n');
      return;
    case 'truncated':
      socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"partial":');
      return;
    case 'stall-body':
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"partial":');
      return;
    case 'hang':
      return;
  }
}

/**
 * An HTTP server with a route per answer: `/status/CODE` answers that status
 * (`Retry-After: 7` on 503 and 429), `/bad-json` a 200 with a broken body,
 * `/slow/MS` answers after MS milliseconds, `/ok` a 200.
 */
export function statusServer(): Promise<FaultServer> {
  return track(createHttpServer(answer), 'http');
}

/** An HTTPS server with a self-signed certificate, answering like {@link statusServer}. */
export function tlsServer(): Promise<FaultServer> {
  return track(createHttpsServer(selfSignedCertificate(), answer), 'https');
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  const [, route = '', arg = ''] = (req.url ?? '/').split('?')[0]!.split('/');
  if (route === 'status') {
    const status = Number(arg);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (status === 503 || status === 429) headers['retry-after'] = '7';
    res.writeHead(status >= 200 && status <= 599 ? status : 500, headers).end(`{"error":"upstream says ${status}"}`);
    return;
  }
  if (route === 'bad-json') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"a": oops not json');
    return;
  }
  if (route === 'slow') {
    const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), Number(arg) || 0);
    res.on('close', () => clearTimeout(timer));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
}

async function track(server: NetServer, scheme: 'http' | 'https'): Promise<FaultServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: Socket) => socket.on('error', ignore));
  await listen(server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://${HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function listen(server: NetServer): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function ignore(): void {}

/** Every fault at once, for suites and demos that need them all. */
export interface Faults {
  readonly refused: string;
  readonly reset: string;
  readonly fin: string;
  readonly garbage: string;
  readonly truncated: string;
  readonly hang: string;
  readonly stallBody: string;
  readonly status: string;
  readonly tls: string;
  close(): Promise<void>;
}

/** Starts every fault server; `close()` stops them all. */
export async function startFaults(): Promise<Faults> {
  const [reset, fin, garbage, truncated, hang, stallBody, status, tls] = await Promise.all([
    socketFault('reset'),
    socketFault('close'),
    socketFault('garbage'),
    socketFault('truncated'),
    socketFault('hang'),
    socketFault('stall-body'),
    statusServer(),
    tlsServer(),
  ]);
  const servers = [reset, fin, garbage, truncated, hang, stallBody, status, tls];
  return {
    refused: `http://${HOST}:${await refusedPort()}`,
    reset: reset.url,
    fin: fin.url,
    garbage: garbage.url,
    truncated: truncated.url,
    hang: hang.url,
    stallBody: stallBody.url,
    status: status.url,
    tls: tls.url,
    close: async () => {
      await Promise.all(servers.map((server) => server.close()));
    },
  };
}
