// The README's recipe as written, with the route calling the orders upstream.
import { Hono } from 'hono';
import { gatewayErrors, notFound, requestHop, requestId } from '@gateway-errors/hono';
import type { RequestIdVariables } from '@gateway-errors/hono';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import { conventions } from './conventions.js';

const ORDERS_URL = process.env['ORDERS_URL'] ?? 'http://127.0.0.1:4010';

const app = new Hono<{ Variables: RequestIdVariables }>();
app.use(requestId(conventions));
app.notFound(notFound(conventions));
app.onError(gatewayErrors(conventions));

app.get('/orders/:id', async (c) => {
  const order = await fetchUpstream('orders', `${ORDERS_URL}/orders/${c.req.param('id')}`, { timeoutMs: 2000, hop: requestHop(c) });
  return c.json(await order.json());
});

export default app;
