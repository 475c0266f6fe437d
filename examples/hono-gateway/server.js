import { serve } from '@hono/node-server';
import { conventionsWithMetrics, UPSTREAMS } from '@gateway-errors-examples/conventions';
import { createApp } from './app.js';

const port = Number(process.env.PORT ?? 3004);
serve({ fetch: createApp({ ...conventionsWithMetrics(), upstreams: UPSTREAMS }).fetch, hostname: '127.0.0.1', port }, () => {
  console.log(`hono-gateway on http://127.0.0.1:${port}; try: curl -i http://127.0.0.1:${port}/orders/42, then curl http://127.0.0.1:${port}/metrics`);
});
