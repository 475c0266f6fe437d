// Fastify 5 in TypeScript (node16 modules, ESM): the README's recipe, with the route's params typed (strict
// TypeScript has `request.params` as `unknown` otherwise).
import Fastify, { LogController } from 'fastify';
import gatewayErrors, { genReqId, notFoundHandler } from '@gateway-errors/fastify';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import { conventions } from './conventions.js';

const ORDERS = process.env['ORDERS_URL'] ?? 'http://127.0.0.1:4010';

const app = Fastify({
  logger: true,
  genReqId: genReqId(conventions),
  logController: new LogController({ requestIdLogLabel: 'requestId' }),
});
await app.register(gatewayErrors, conventions);
app.setNotFoundHandler(notFoundHandler(conventions));

app.get<{ Params: { id: string } }>('/orders/:id', async (request) => {
  const res = await fetchUpstream('orders', `${ORDERS}/orders/${request.params.id}`, { timeoutMs: 2000 });
  return res.json();
});

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env['PORT'] ?? 3000) });
console.log(`listening on ${address}`);
