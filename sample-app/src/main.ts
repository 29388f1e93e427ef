import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { RedlockService } from 'nestjs-redlock';
import { lockMiddleware } from 'nestjs-redlock/express';
import { AppConfig } from './app-config.js';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  // Express middleware in front of a route: one rebuild of a day's report at a time.
  app.use(
    '/reports/:day/rebuild',
    lockMiddleware({ redlock: app.get(RedlockService), key: 'report:<params.day>', waitMs: 0 }),
  );
  await app.listen(app.get(AppConfig).port, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  console.log(`sample-app listening on http://127.0.0.1:${port}`);
}

void bootstrap();
