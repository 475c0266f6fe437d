import { conventionsWithMetrics, UPSTREAMS } from '@gateway-errors-examples/conventions';
import { createApp } from './app.js';

const port = Number(process.env.PORT ?? 3001);
createApp({ ...conventionsWithMetrics(), upstreams: UPSTREAMS }).listen(port, '127.0.0.1', () => {
  console.log(`express-gateway on http://127.0.0.1:${port}; try: curl -i http://127.0.0.1:${port}/orders/42, then curl http://127.0.0.1:${port}/metrics`);
});
