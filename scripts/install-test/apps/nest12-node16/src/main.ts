// NestJS 12 is ESM only: under `module: node16` a CommonJS app cannot import it (TS1479), so this app is
// ESM (`"type": "module"`, imports ending in .js), as `nest new` makes it for ESM.
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.listen(process.env.PORT ?? 3000, '127.0.0.1');
  console.log(`listening on ${await app.getUrl()}`);
}
await bootstrap();
