// The upstream: an inventory service, traced, whose `/stock/broken` fails with a 500 and an internal error body.
import { startTelemetry } from './telemetry.js';

startTelemetry('inventory');
const { createServer } = await import('node:http');

const server = createServer((req, res) => {
  if (req.url === '/stock/broken') {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'relation "stock" does not exist', query: 'SELECT * FROM stock' }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ sku: req.url?.split('/').pop(), available: 3 }));
});
server.listen(Number(process.env.PORT ?? 4011), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
