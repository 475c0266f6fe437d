/**
 * @module
 * Upstreams that fail on purpose, on 127.0.0.1: a port that refuses, servers
 * that reset, close, send garbage, cut a body short, hang, stall mid-body,
 * answer an error status, present a self-signed certificate, or never accept
 * a connection. Every server closes with all of its sockets, so tests and
 * demos stop by themselves. Servers that speak PostgreSQL, Redis and gRPC are
 * at `@gateway-errors/fault-servers/protocols`.
 */
import {
  bodyStallServer,
  finServer,
  garbageServer,
  hangServer,
  refusedPort,
  resetServer,
  statusServer,
  tlsServer,
  truncatedServer,
} from './http.js';

export * from './http.js';

/** Every fault at once (base URLs), for suites and demos that need them all. */
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
    resetServer(),
    finServer(),
    garbageServer(),
    truncatedServer(),
    hangServer(),
    bodyStallServer(),
    statusServer(),
    tlsServer({ selfSigned: true }),
  ]);
  const servers = [reset, fin, garbage, truncated, hang, stallBody, status, tls];
  return {
    refused: `http://127.0.0.1:${await refusedPort()}`,
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
