/*
 * The README's Nest example, type-checked and booted by test/examples.spec.ts against real
 * Redis nodes (REDLOCK_NODES). The regions are copied into the README verbatim.
 */
import 'reflect-metadata';
// #region nest-module
import { Injectable, Module } from '@nestjs/common';
import { RedlockModule, RedlockService, WithLock } from 'nestjs-redlock';

@Injectable()
export class OrdersService {
  readonly charged = new Map<string, number>();

  constructor(private readonly redlock: RedlockService) {}

  /** One charge per order at a time, across every instance of the service. */
  @WithLock('order:<orderId>', { ttlMs: 5_000, waitMs: 2_000, retryCount: -1 })
  async charge(orderId: string, amountCents: number): Promise<number> {
    const { lock, signal } = this.redlock.current()!; // the lock this call holds
    if (signal.aborted) throw signal.reason; // lost it? stop before writing
    const total = (this.charged.get(orderId) ?? 0) + amountCents;
    this.charged.set(orderId, total);
    return lock.validityMs > 0 ? total : 0;
  }
}

@Module({
  imports: [
    RedlockModule.forRoot({
      nodes: process.env.REDLOCK_NODES!.split(','),
      keyPrefix: 'shop:',
      defaultTtlMs: 10_000,
    }),
  ],
  providers: [OrdersService],
})
export class OrdersModule {}
// #endregion
