/**
 * What every fault server shares: the loopback host, the shape of a running
 * server, and a listener that tracks its sockets so `close()` leaves none behind.
 */
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';

export const HOST = '127.0.0.1';

/** A running fault server. */
export interface FaultServer {
  /** Base URL, such as `http://127.0.0.1:40123` (`postgres://`, `redis://` or `tcp://` for the protocol servers). */
  readonly url: string;
  readonly port: number;
  /** Destroys every socket and stops listening. Idempotent. */
  close(): Promise<void>;
}

type Closable = NetServer | HttpServer;

function track(server: Closable): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A client that gives up resets the connection; that is not a server failure.
    socket.on('error', () => {});
  });
  return sockets;
}

/** Listens on 127.0.0.1 on an ephemeral port; `close()` destroys every socket first. */
export async function listen(server: Closable, scheme: string, backlog?: number): Promise<FaultServer> {
  const sockets = track(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: HOST, port: 0, ...(backlog === undefined ? {} : { backlog }) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `${scheme}://${HOST}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

/** Below Linux's ephemeral range (32768–60999), where `listen(0)` picks ports: none is handed out here. */
const REFUSED_RANGE = { from: 20_000, to: 30_000 } as const;

/**
 * A port on 127.0.0.1 that nothing listens on: bound, then closed. Connecting to it is refused. It is
 * taken outside the range the system hands out for `listen(0)`, so a server a test starts later cannot
 * get it (a proxy whose refused upstream became the proxy itself would call itself without end).
 */
export async function refusedPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = REFUSED_RANGE.from + Math.floor(Math.random() * (REFUSED_RANGE.to - REFUSED_RANGE.from));
    const server = createNetServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, HOST, () => resolve(true));
    });
    if (!bound) continue;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
  throw new Error(`refusedPort: no free port between ${REFUSED_RANGE.from} and ${REFUSED_RANGE.to} after 50 tries`);
}
