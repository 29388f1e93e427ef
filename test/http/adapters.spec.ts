import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Param, Post, UseInterceptors } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import express5 from 'express';
import express4 from 'express4';
import type { Server } from 'node:http';
import request from 'supertest';
import { Redlock } from 'nestjs-redlock/core';
import { lockMiddleware } from 'nestjs-redlock/express';
import { LockInterceptor, LockRoute, RedlockModule, RedlockService } from '../../lib/index.js';
import { expectSecondLocked } from '../support/concurrent-requests.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { RedisCluster } from '../support/redis-nodes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Controller('orders')
@UseInterceptors(LockInterceptor)
class OrdersController {
  constructor(private readonly redlock: RedlockService) {}

  @Post(':id/pay')
  @LockRoute('order:<params.id>', { retryCount: 0, ttlMs: 2_000 })
  async pay(@Param('id') id: string, @Body() body: { ms?: number }) {
    await sleep(body?.ms ?? 200);
    return { paid: id, lock: this.redlock.current()?.lock.resources };
  }

  @Post('by-tenant')
  @LockRoute('tenant:<headers.x-tenant>', { retryCount: 0 })
  byTenant() {
    return { ok: true };
  }
}

describe('the HTTP layer on every adapter it supports (3 real nodes)', () => {
  let cluster: RedisCluster;
  let probe: NodeProbe;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
  });
  afterEach(async () => {
    await probe.flush();
  });
  afterAll(async () => {
    await probe.quit();
    await cluster.stop();
  });

  describe('LockInterceptor on Nest with Fastify', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false })],
        controllers: [OrdersController],
      }).compile();
      app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
        logger: false,
      });
      await app.listen(0, '127.0.0.1');
    });
    afterAll(async () => {
      await app.close();
    });

    it('answers the second of two concurrent requests 423 with Retry-After', async () => {
      const body = await expectSecondLocked(
        app.getHttpServer(),
        '/orders/1/pay',
        { ms: 300 },
        201,
        'order:1',
      );
      expect(body).toEqual({ paid: '1', lock: ['order:1'] });
      await eventually(async () =>
        expect(await probe.values('order:1')).toEqual([null, null, null]),
      );
    });

    it('reads headers case-insensitively, and answers 400 without them', async () => {
      const server = app.getHttpServer();
      await request(server).post('/orders/by-tenant').set('X-Tenant', 'acme').expect(201);
      const missing = await request(server).post('/orders/by-tenant');
      expect(missing.status).toBe(400);
      expect(missing.body.reason).toBe('invalid-key');
    });
  });

  describe('LockInterceptor registered app-wide with APP_INTERCEPTOR', () => {
    @Controller('jobs')
    class JobsController {
      @Post(':id')
      @LockRoute('job:<params.id>', { retryCount: 0 })
      async run(@Param('id') id: string) {
        await sleep(300);
        return { ran: id };
      }

      @Post('free/:id')
      free(@Param('id') id: string) {
        return { free: id };
      }
    }

    it('locks the routes that declare a lock and leaves the others alone', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false })],
        controllers: [JobsController],
        providers: [{ provide: APP_INTERCEPTOR, useClass: LockInterceptor }],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
      try {
        await expectSecondLocked(app.getHttpServer(), '/jobs/1', {}, 201, 'job:1');
        await eventually(async () =>
          expect(await probe.values('job:1')).toEqual([null, null, null]),
        );
        await sleep(50);
        const before = await probe.lockCommands();
        await request(app.getHttpServer()).post('/jobs/free/1').expect(201);
        expect(await probe.lockCommands()).toEqual(before);
      } finally {
        await app.close();
      }
    });
  });

  describe.each([
    ['Express 4', express4],
    ['Express 5', express5],
  ])('lockMiddleware on %s', (_, express) => {
    let redlock: Redlock;
    let server: Server;

    beforeAll(async () => {
      redlock = new Redlock(cluster.urls);
      const app = express();
      app.get(
        '/reports/:id',
        lockMiddleware({ redlock, key: 'report:<params.id>', retryCount: 0 }),
        async (_req, res) => {
          // A streamed body: the lock is held until its last chunk.
          res.write('part 1\n');
          await sleep(300);
          res.end('part 2\n');
        },
      );
      server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
      await redlock.quit();
    });

    it('holds the lock until a streamed response ends, answering 423 meanwhile', async () => {
      const streaming = request(server).get('/reports/7');
      const pending = streaming.then((response) => response);
      await eventually(async () =>
        expect((await probe.values('report:7')).filter(Boolean)).toHaveLength(3),
      );
      const meanwhile = await request(server).get('/reports/7');
      expect(meanwhile.status).toBe(423);
      const streamed = await pending;
      expect(streamed.text).toBe('part 1\npart 2\n');
      await eventually(async () =>
        expect(await probe.values('report:7')).toEqual([null, null, null]),
      );
      await request(server).get('/reports/7').expect(200);
    });
  });
});
