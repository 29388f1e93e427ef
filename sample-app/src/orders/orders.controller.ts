import { Body, Controller, Get, NotFoundException, Param, Post } from '@nestjs/common';
import { LockRoute } from 'nestjs-redlock';
import { OrdersService } from './orders.service.js';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  /**
   * A second payment of the same order while one runs answers 423 Locked with Retry-After.
   * The route's lock and the service's @WithLock name the same key: the service joins the
   * route's hold (same async context) instead of waiting for it.
   */
  @Post(':id/pay')
  @LockRoute('order:<params.id>', { fencing: true, waitMs: 0 })
  pay(@Param('id') id: string, @Body() body: { amountCents?: number }) {
    return this.orders.pay(id, body?.amountCents ?? 100);
  }

  @Get(':id')
  async show(@Param('id') id: string) {
    const order = await this.orders.find(id);
    if (!order) throw new NotFoundException(`No order ${id}`);
    return order;
  }
}
