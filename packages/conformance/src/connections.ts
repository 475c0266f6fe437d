import type { Server } from 'node:http';

/** How many connections a Node.js server holds open, as a target's `connections()`. */
export function connectionsOf(server: Server): () => Promise<number> {
  return () =>
    new Promise<number>((resolve, reject) => {
      server.getConnections((error, count) => (error ? reject(error) : resolve(count)));
    });
}
