/**
 * Upstreams the conformance tables start besides the fault servers: a listener that cuts its open
 * connections on close, and an upstream that records the headers of every request it gets.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';

/** A W3C `traceparent` a client sends, to see it forwarded unchanged. */
export const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

export interface Upstream {
  readonly url: string;
  close(): Promise<void>;
}

export async function listening(server: Server | NetServer): Promise<Upstream> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Records the headers of every request; `/fail` answers 500 with its own request ID `up-123`, anything else 200. */
export async function captureServer(): Promise<Upstream & { readonly seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    if (new URL(req.url ?? '/', 'http://x').pathname === '/fail') {
      res.writeHead(500, { 'content-type': 'application/json', 'x-request-id': 'up-123' }).end('{"secret":"db at 10.0.0.7"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'up-ok' }).end('{"ok":true}');
  });
  return { ...(await listening(server)), seen };
}
