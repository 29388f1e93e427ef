/*
 * The README's HTTP examples, type-checked and run by test/examples.spec.ts against real Redis
 * nodes (REDLOCK_NODES). The regions are copied into the README verbatim.
 */
import 'reflect-metadata';
// #region express
import express from 'express';
import { Redlock } from 'nestjs-redlock/core';
import { lockMiddleware } from 'nestjs-redlock/express';

const redlock = new Redlock(process.env.REDLOCK_NODES!.split(','));
export const app = express();

app.post(
  '/orders/:id/pay',
  lockMiddleware({ redlock, key: 'order:<params.id>', ttlMs: 5_000, waitMs: 0 }),
  async (req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 100)); // the payment, under the lock
    res.json({ paid: req.params.id }); // a concurrent request on this order got 423 Locked
  },
);
// #endregion

// #region express-abort
import { setTimeout as delay } from 'node:timers/promises';
import type { RequestLock } from 'nestjs-redlock/express';

app.post(
  '/orders/:id/ship',
  lockMiddleware({ redlock, key: 'order:<params.id>' }),
  async (req, res) => {
    const { signal } = (req as typeof req & { lock: RequestLock }).lock;
    await delay(100, undefined, { signal }).catch(() => undefined); // work that honours `signal`
    if (signal.aborted) return void res.end(); // the client went away: stop; this lets the lock go
    res.json({ shipped: req.params.id });
  },
);
// #endregion

// #region nest-interceptor
import { Controller, Param, Post } from '@nestjs/common';
import { LockRoute } from 'nestjs-redlock';

@Controller('orders')
export class OrdersController {
  @Post(':id/refund')
  @LockRoute('order:<params.id>', { waitMs: 0 })
  refund(@Param('id') id: string) {
    return { refunded: id };
  }
}
// #endregion

/** Closes the example's connections. */
export const shutdown = () => redlock.quit();
