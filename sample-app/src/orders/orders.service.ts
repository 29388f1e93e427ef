import { Injectable } from '@nestjs/common';
import { RedlockService, WithLock } from 'nestjs-redlock';
import { OrderStore, type Order } from './order-store.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Injectable()
export class OrdersService {
  constructor(
    private readonly redlock: RedlockService,
    private readonly store: OrderStore,
  ) {}

  /**
   * Takes a payment: one at a time per order, across every instance of the service. The lock
   * carries a fencing token, which the store checks on the read and on the write.
   */
  @WithLock('order:<id>', { fencing: true, waitMs: 0 })
  async pay(id: string, amountCents: number): Promise<Order> {
    const { lock } = this.redlock.current()!;
    const token = lock.fencingToken!;
    const order = await this.store.read(id, token);
    await sleep(300); // talk to the payment provider
    const paid = {
      ...order,
      paidCents: order.paidCents + amountCents,
      payments: order.payments + 1,
      lastToken: token.toString(),
    };
    await this.store.write(paid, token);
    return paid;
  }

  find(id: string): Promise<Order | null> {
    return this.store.peek(id);
  }
}
