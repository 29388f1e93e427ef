/*
 * The Nest app the HTTP benchmark drives (a child process, so that autocannon and the server do
 * not share an event loop): the same handler bare, behind LockInterceptor on a key per order,
 * and behind LockInterceptor where the load hits one order (most requests get 423). Prints
 * `listening on <port>` once up.
 */
import 'reflect-metadata';
import { Controller, Get, Module, Param, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { LockInterceptor, LockRoute, RedlockModule } from '../lib/index.js';

@Controller()
class OrdersController {
  @Get('plain/:id')
  plain(@Param('id') id: string) {
    return { id };
  }

  @Get('locked/:id')
  @UseInterceptors(LockInterceptor)
  @LockRoute('order:<params.id>', { waitMs: 0, retryCount: 0 })
  locked(@Param('id') id: string) {
    return { id };
  }
}

@Module({
  imports: [RedlockModule.forRoot({ nodes: process.env.REDLOCK_NODES!.split(','), logger: false })],
  controllers: [OrdersController],
})
class BenchModule {}

const app = await NestFactory.create(BenchModule, { logger: false });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
console.log(`listening on ${(app.getHttpServer().address() as AddressInfo).port}`);
