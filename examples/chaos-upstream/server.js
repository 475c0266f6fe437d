import { selfSignedCertificate } from '@gateway-errors/fault-servers';
import { ROUTES, startChaos } from './chaos.js';

const { upstreams } = await startChaos(selfSignedCertificate(), { port: Number(process.env.PORT ?? 4010) });
console.log(`orders service (chaos) on ${upstreams.orders}:`);
for (const [route, what] of Object.entries(ROUTES)) console.log(`  ${upstreams.orders}/${route}  ${what}`);
console.log(`inventory service: ${upstreams.inventory} (nobody listens: refused)`);
console.log(`payments service: ${upstreams.payments} (self-signed certificate)`);
