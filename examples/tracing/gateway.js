// The gateway: Express, traced, with gateway-errors and its OpenTelemetry observer. `GET /stock/:sku` asks
// the inventory service; the trace context goes along, so the inventory's span is in the gateway's trace.
import { startTelemetry } from './telemetry.js';

startTelemetry('gateway');
const { default: express } = await import('express');
const { defineConventions } = await import('@gateway-errors/core');
const { fetchUpstream } = await import('@gateway-errors/core/upstream');
const { gatewayErrors, notFound, requestId } = await import('@gateway-errors/express');
const { openTelemetry } = await import('@gateway-errors/otel');

const INVENTORY = process.env.INVENTORY_URL ?? 'http://127.0.0.1:4011';
const conventions = defineConventions({ mode: 'production', observers: [openTelemetry({ upstreams: ['inventory'] })] });

const app = express();
app.use(requestId(conventions));
app.get('/stock/:sku', async (req, res) => {
  const answer = await fetchUpstream('inventory', `${INVENTORY}/stock/${encodeURIComponent(req.params.sku)}`);
  res.json(await answer.json());
});
app.use(notFound(conventions));
app.use(gatewayErrors(conventions));

const server = app.listen(Number(process.env.PORT ?? 4000), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
