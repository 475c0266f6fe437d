// The chaos upstream: a real HTTP server on 127.0.0.1 with one route per way an upstream fails,
// a port nobody listens on, and an HTTPS server with a self-signed certificate.
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';

/** Each route of the orders service and what it does. */
export const ROUTES = {
  ok: 'answers 200 with JSON, echoing the X-Request-Id it received (header and body)',
  hang: 'reads the request and never answers',
  reset: 'reads the request, then resets the connection without answering',
  cut: 'sends the head and half the body, then resets the connection',
  garbage: 'answers bytes that are not HTTP',
  truncated: 'promises 100 bytes of body, sends 11, closes',
  500: 'answers 500',
  503: 'answers 503 with Retry-After: 7',
  429: 'answers 429 with Retry-After: 30',
  slow: 'answers 200 after 300 ms',
};

/**
 * Starts the chaos upstream.
 * @param {{ cert: string, key: string }} certificate a self-signed certificate for the HTTPS server
 * @param {{ port?: number }} [options] port of the orders service (0: any free port)
 */
export async function startChaos(certificate, { port = 0 } = {}) {
  const sockets = new Set();
  const orders = createServer((req, res) => {
    const route = routeOf(req.url);
    req.resume();
    switch (route) {
      case 'hang':
        return;
      case 'reset':
        setTimeout(() => req.socket.resetAndDestroy(), 5);
        return;
      case 'cut':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"orders": [');
        setTimeout(() => req.socket.resetAndDestroy(), 5);
        return;
      case 'garbage':
        req.socket.end('THIS IS NOT HTTP\r\n\r\n');
        return;
      case 'truncated':
        req.socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"partial":');
        return;
      case '500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('ERROR: relation "orders" does not exist; password=hunter2 at db-7.internal:5432');
        return;
      case '503':
        res.writeHead(503, { 'retry-after': '7' }).end();
        return;
      case '429':
        res.writeHead(429, { 'retry-after': '30' }).end();
        return;
      case 'slow': {
        const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"slow":true}'), 300);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      default: {
        // A well-behaved service: it logs under the ID it was given and answers with it.
        const received = req.headers['x-request-id'];
        const requestId = typeof received === 'string' && /^[\w.:=+/-]{1,200}$/.test(received) ? received : undefined;
        res.writeHead(200, { 'content-type': 'application/json', ...(requestId === undefined ? {} : { 'x-request-id': requestId }) });
        res.end(JSON.stringify({ id: route.slice(0, 100), status: 'shipped', receivedRequestId: requestId ?? null }));
      }
    }
  });
  const payments = createHttpsServer(certificate, (_req, res) => res.writeHead(200).end('{}'));
  payments.on('tlsClientError', () => {});
  for (const server of [orders, payments]) {
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    });
  }
  const ordersPort = await listen(orders, port);
  const paymentsPort = await listen(payments, 0);
  const refused = createNetServer();
  const refusedPort = await listen(refused, 0);
  await new Promise((resolve) => refused.close(resolve));
  return {
    upstreams: {
      orders: `http://127.0.0.1:${ordersPort}`,
      inventory: `http://127.0.0.1:${refusedPort}`,
      payments: `https://127.0.0.1:${paymentsPort}`,
    },
    close: () =>
      Promise.all(
        [orders, payments].map(
          (server) =>
            new Promise((resolve) => {
              for (const socket of sockets) socket.destroy();
              server.close(resolve);
            }),
        ),
      ),
  };
}

/** @param {string | undefined} url */
function routeOf(url) {
  const path = (url ?? '/').split('?')[0].slice(1);
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server.address().port));
  });
}
