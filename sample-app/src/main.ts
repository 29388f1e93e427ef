import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { RedlockService } from 'nestjs-redlock';
import { lockMiddleware } from 'nestjs-redlock/express';
import { AppConfig } from './app-config.js';
import { AppModule } from './app.module.js';

/** METRICS=prometheus serves the lock metrics at GET /metrics; unset, there are none. */
async function startMetrics() {
  const choice = process.env.METRICS;
  if (choice === undefined || choice === '') return undefined;
  if (choice !== 'prometheus') {
    throw new Error(`METRICS=${choice}: the sample app knows only METRICS=prometheus`);
  }
  const { startPrometheusMetrics } = await import('./metrics.js');
  return startPrometheusMetrics();
}

async function bootstrap(): Promise<void> {
  // Before the app (and its Redlock) is created: instruments come from the provider then.
  const metrics = await startMetrics();
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  if (metrics) {
    app.use('/metrics', metrics.handler);
    process.once('beforeExit', () => void metrics.shutdown());
  }
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
