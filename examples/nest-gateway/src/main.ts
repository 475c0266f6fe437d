import { conventionsWithMetrics, UPSTREAMS } from '@gateway-errors-examples/conventions';
import { createApp } from './app.js';
import type { Platform } from './app.js';

const platform: Platform = process.env['PLATFORM'] === 'fastify' ? 'fastify' : 'express';
const port = Number(process.env['PORT'] ?? 3003);
const app = await createApp({ ...conventionsWithMetrics(), upstreams: UPSTREAMS, platform });
await app.listen(port, '127.0.0.1');
console.log(`nest-gateway (platform-${platform}) on http://127.0.0.1:${port}; try: curl -i http://127.0.0.1:${port}/orders/42, then curl http://127.0.0.1:${port}/metrics`);
