import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Injectable, Module, Param, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { trace } from '@opentelemetry/api';
import request from 'supertest';
import {
  lockMiddleware,
  LockRoute,
  RedlockModule,
  RedlockService,
  WithLock,
  WithSemaphore,
} from '../../lib/index.js';
import { installOtel, type InstalledOtel } from '../support/otel.js';
import { RedisCluster } from '../support/redis-nodes.js';

@Injectable()
class OrdersService {
  @WithLock('order:<id>')
  async pay(id: string): Promise<string> {
    return `paid ${id}`;
  }

  @WithSemaphore('exports:<tenant>', { limit: 2 })
  async exportFor(tenant: string): Promise<string> {
    return `exported ${tenant}`;
  }
}

@Controller('orders')
class OrdersController {
  @Post(':id/pay')
  @LockRoute('order:<params.id>')
  pay(@Param('id') id: string) {
    return { paid: id };
  }
}

/**
 * Under Nest, a decorated method's lock is traced under its class and method, with the key
 * template (never the argument's value) as the resource, inside the span that was active when
 * the method was called: with OpenTelemetry's HTTP instrumentation, the incoming request's.
 */
describe('OpenTelemetry under Nest', () => {
  let otel: InstalledOtel;
  let cluster: RedisCluster;
  let app: INestApplication;

  beforeAll(async () => {
    otel = installOtel();
    cluster = await RedisCluster.start(3);
    @Module({
      imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false })],
      providers: [OrdersService],
      controllers: [OrdersController],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false });
    app.use(
      '/reports/:day/rebuild',
      lockMiddleware({ redlock: app.get(RedlockService), key: 'report:<params.day>' }),
    );
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
    await otel.uninstall();
  });

  it('names @WithLock and @WithSemaphore spans after the class and method, under the request span', async () => {
    const orders = app.get(OrdersService);
    const tracer = trace.getTracer('http-instrumentation-stand-in');
    await tracer.startActiveSpan('POST /orders/:id/pay', async (request) => {
      expect(await orders.pay('ada@example.com')).toBe('paid ada@example.com');
      expect(await orders.exportFor('t-1')).toBe('exported t-1');
      request.end();
    });
    const [request] = otel.spans('POST /orders/:id/pay');
    const [pay] = otel.spans('redlock.acquire OrdersService.pay');
    const [exported] = otel.spans('redlock.acquire OrdersService.exportFor');
    expect(pay.attributes).toMatchObject({
      'code.function.name': 'OrdersService.pay',
      'redlock.resource.names': ['order:<id>'],
      'redlock.lock.mode': 'write',
      'redlock.outcome': 'acquired',
    });
    expect(exported.attributes).toMatchObject({
      'code.function.name': 'OrdersService.exportFor',
      'redlock.resource.names': ['exports:<tenant>'],
      'redlock.lock.mode': 'permit',
    });
    for (const span of [pay, exported, ...otel.spans('redlock.release')]) {
      expect(span.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    }
    expect(JSON.stringify(otel.spans().map((span) => span.attributes))).not.toContain('ada@');
  });

  it('names @LockRoute spans after the controller method, and lockMiddleware spans after it, with their key templates', async () => {
    otel.clearSpans();
    const server = app.getHttpServer();
    expect((await request(server).post('/orders/ada@example.com/pay')).status).toBe(201);
    await request(server).post('/reports/2026-12-04/rebuild');
    const [route] = otel.spans('redlock.acquire OrdersController.pay');
    expect(route.attributes).toMatchObject({
      'code.function.name': 'OrdersController.pay',
      'redlock.resource.names': ['order:<params.id>'],
      'redlock.outcome': 'acquired',
    });
    const [middleware] = otel.spans('redlock.acquire lockMiddleware');
    expect(middleware.attributes['redlock.resource.names']).toEqual(['report:<params.day>']);
    expect(JSON.stringify(otel.spans().map((span) => span.attributes))).not.toContain('ada@');
  });
});
