// Express 5, ESM: the README's app as written, listening on 127.0.0.1.
import express from 'express';
import { gatewayErrors, notFound, requestId } from '@gateway-errors/express';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import { conventions } from './conventions.js';

const ORDERS_URL = process.env.ORDERS_URL ?? 'http://127.0.0.1:4010';

const app = express();
app.use(requestId(conventions));

app.get('/orders/:id', async (req, res) => {
  const order = await fetchUpstream('orders', `${ORDERS_URL}/orders/${encodeURIComponent(req.params.id)}`);
  res.json(await order.json());
});

app.use(notFound(conventions));
app.use(gatewayErrors(conventions));

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
