// Express 4, CommonJS: the README's app with its Express 4 route (asyncHandler).
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- an app in CommonJS, as Express 4 apps are written */
const express = require('express');
const { asyncHandler, gatewayErrors, notFound, requestId } = require('@gateway-errors/express');
const { fetchUpstream } = require('@gateway-errors/core/upstream');
const { conventions } = require('./conventions.js');

const ORDERS_URL = process.env.ORDERS_URL ?? 'http://127.0.0.1:4010';

const app = express();
app.use(requestId(conventions));

app.get('/orders/:id', asyncHandler(async (req, res) => {
  const order = await fetchUpstream('orders', `${ORDERS_URL}/orders/${encodeURIComponent(req.params.id)}`);
  res.json(await order.json());
}));

app.use(notFound(conventions));
app.use(gatewayErrors(conventions));

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
