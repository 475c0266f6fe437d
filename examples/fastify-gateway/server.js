import { conventionsWithMetrics, UPSTREAMS } from '@gateway-errors-examples/conventions';
import { createApp } from './app.js';

const port = Number(process.env.PORT ?? 3002);
const app = await createApp({ ...conventionsWithMetrics(), upstreams: UPSTREAMS, logger: true });
await app.listen({ host: '127.0.0.1', port });
console.log(`fastify-gateway on http://127.0.0.1:${port}; try: curl -i http://127.0.0.1:${port}/orders/42, then curl http://127.0.0.1:${port}/metrics`);
