// A consumer of the packed package: a Nest app using the module, @WithLock, LockInterceptor
// and @LockRoute, and the core, express and compat entry points. Compiled and run by consumers.spec.ts
// in throwaway projects (CommonJS with Nest 11, ES modules with Nest 12).
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Param, Post, UseInterceptors } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import {
  LockInterceptor,
  LockRoute,
  RedlockModule,
  RedlockService,
  WithLock,
} from 'nestjs-redlock';
import { Redlock, type Lock } from 'nestjs-redlock/core';
import { lockMiddleware } from 'nestjs-redlock/express';
import { RedlockHealthIndicator } from 'nestjs-redlock/terminus';
import NodeRedlock, { ExecutionError, type ExecutionStats } from 'nestjs-redlock/compat';

const nodes = process.env.REDLOCK_NODES!.split(',');

@Injectable()
class Orders {
  constructor(private readonly redlock: RedlockService) {}

  @WithLock('order:<id>', { fencing: true })
  async pay(id: string): Promise<{ id: string; token: string }> {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { id, token: String(this.redlock.current()?.lock.fencingToken) };
  }
}

@Controller('orders')
@UseInterceptors(LockInterceptor)
class OrdersController {
  constructor(private readonly orders: Orders) {}

  @Post(':id/pay')
  @LockRoute('route:<params.id>', { retryCount: 0 })
  pay(@Param('id') id: string) {
    return this.orders.pay(id);
  }
}

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redlock: RedlockHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.redlock.isHealthy()]);
  }
}

@Module({
  imports: [TerminusModule, RedlockModule.forRoot({ nodes: nodes, logger: false })],
  controllers: [OrdersController, HealthController],
  providers: [Orders, RedlockHealthIndicator],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const pay = async () => {
    const response = await fetch(`http://127.0.0.1:${port}/orders/7/pay`, { method: 'POST' });
    return { status: response.status, body: (await response.json()) as { token?: string } };
  };
  const concurrent = await Promise.all([pay(), pay()]);
  const next = await pay();
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  const healthBody = (await health.json()) as {
    info?: { redlock?: { status: string; up: number } };
  };

  const redlock = new Redlock(nodes);
  const lock: Lock = await redlock.acquire('direct', 1_000);
  const released = await lock.release();
  await redlock.quit();

  // node-redlock v5's API: a second acquire of a held resource fails with its ExecutionError.
  const clients = nodes.map((url) => new Redis(url, { autoResendUnfulfilledCommands: false }));
  const compat = new NodeRedlock(clients, { retryCount: 0 });
  const held = await compat.acquire(['compat'], 5_000);
  const refused = await compat.acquire(['compat'], 5_000).catch((error: unknown) => error);
  const stats: ExecutionStats | undefined =
    refused instanceof ExecutionError ? await refused.attempts[0] : undefined;
  await held.release();
  await compat.quit();
  await app.close();
  console.log(
    JSON.stringify({
      statuses: concurrent.map((answer) => answer.status).sort(),
      tokens: [...concurrent, next].map((answer) => answer.body.token).filter(Boolean),
      released,
      compat: [refused instanceof ExecutionError, (stats?.votesAgainst.size ?? 0) >= 2],
      middleware: typeof lockMiddleware,
      health: [health.status, healthBody.info?.redlock?.status, healthBody.info?.redlock?.up],
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
