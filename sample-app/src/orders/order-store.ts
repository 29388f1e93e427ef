import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { FencedRedisStore } from 'nestjs-redlock/core';
import { AppConfig } from '../app-config.js';

/** An order as the sample keeps it. */
export interface Order {
  id: string;
  paidCents: number;
  payments: number;
  /** The fencing token of the last payment written. */
  lastToken: string | null;
}

/**
 * Where orders live: a Redis that checks the lock's fencing token on every read and write, so
 * that a payment whose lock expired mid-way (a long GC pause) cannot overwrite a newer one.
 */
@Injectable()
export class OrderStore implements OnApplicationShutdown {
  private readonly redis: Redis;
  private readonly fenced: FencedRedisStore;

  constructor(config: AppConfig) {
    this.redis = new Redis(config.storageUrl);
    this.fenced = new FencedRedisStore(this.redis);
  }

  /** Reads an order under the lock's token. */
  async read(id: string, token: bigint): Promise<Order> {
    const raw = await this.fenced.get(`order:${id}`, token);
    return raw ? (JSON.parse(raw) as Order) : { id, paidCents: 0, payments: 0, lastToken: null };
  }

  /** Writes an order under the lock's token; refused if a newer holder came by. */
  async write(order: Order, token: bigint): Promise<void> {
    await this.fenced.set(`order:${order.id}`, JSON.stringify(order), token);
  }

  /** Reads an order without a lock, for display. */
  async peek(id: string): Promise<Order | null> {
    const raw = await this.redis.get(`order:${id}`);
    return raw ? (JSON.parse(raw) as Order) : null;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit();
  }
}
