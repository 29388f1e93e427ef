import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Body,
  Controller,
  Get,
  Injectable,
  Param,
  Post,
  StreamableFile,
  UseInterceptors,
  type INestApplication,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import {
  LockInterceptor,
  LockRoute,
  RedlockModule,
  RedlockService,
  WithLock,
  lockMiddleware,
  type RequestLock,
} from '../../lib/index.js';
import { expectSecondLocked } from '../support/concurrent-requests.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { freePort, RedisCluster } from '../support/redis-nodes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Injectable()
class Payments {
  @WithLock('invoice:<id>', { retryCount: 0 })
  async issue(id: string) {
    await sleep(300);
    return { issued: id };
  }
}

@Controller('orders')
@UseInterceptors(LockInterceptor)
class OrdersController {
  constructor(
    private readonly redlock: RedlockService,
    private readonly payments: Payments,
  ) {}

  @Post(':id/pay')
  @LockRoute('order:<params.id>', { retryCount: 0, ttlMs: 2_000 })
  async pay(@Param('id') id: string, @Body() body: { ms?: number; fail?: boolean }) {
    await sleep(body.ms ?? 200);
    if (body.fail) throw new Error('payment failed');
    return { paid: id, lock: this.redlock.current()?.lock.resources };
  }

  @Post('by-body')
  @LockRoute('order:<body.orderId>', { retryCount: 0 })
  byBody(@Body() body: { orderId: string }) {
    return { orderId: body.orderId };
  }

  @Get('export/:id')
  @LockRoute('export:<params.id>', { retryCount: 0 })
  export() {
    // A streamed body: the lock is held until its last chunk, after the handler returned.
    const body = new PassThrough();
    body.write('part 1\n');
    setTimeout(() => body.end('part 2\n'), 300);
    return new StreamableFile(body, { type: 'text/plain' });
  }

  @Get('invoice/:id')
  invoice(@Param('id') id: string) {
    return this.payments.issue(id);
  }
}

describe('LockInterceptor on a Nest app over Express (3 real nodes)', () => {
  let cluster: RedisCluster;
  let probe: NodeProbe;
  let app: INestApplication;

  const start = async (nodes: string[], moduleOptions = {}) => {
    const moduleRef = await Test.createTestingModule({
      imports: [RedlockModule.forRoot({ nodes: nodes, logger: false, ...moduleOptions })],
      controllers: [OrdersController],
      providers: [Payments],
    }).compile();
    const started = moduleRef.createNestApplication({ logger: false });
    await started.listen(0, '127.0.0.1');
    return started;
  };

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
    app = await start(cluster.urls);
  });
  afterEach(async () => {
    await probe.flush();
  });
  afterAll(async () => {
    await app.close();
    await probe.quit();
    await cluster.stop();
  });

  it('answers the second of two concurrent requests on an order 423 with Retry-After', async () => {
    const body = await expectSecondLocked(
      app.getHttpServer(),
      '/orders/1/pay',
      { ms: 300 },
      201,
      'order:1',
    );
    expect(body).toEqual({ paid: '1', lock: ['order:1'] });
  });

  it('runs different orders in parallel, and releases after success and after an error', async () => {
    const server = app.getHttpServer();
    const statuses = await Promise.all(
      ['2', '3'].map((id) =>
        request(server)
          .post(`/orders/${id}/pay`)
          .send({ ms: 100 })
          .then((response) => response.status),
      ),
    );
    expect(statuses).toEqual([201, 201]);
    await request(server).post('/orders/4/pay').send({ ms: 1, fail: true }).expect(500);
    await request(server).post('/orders/4/pay').send({ ms: 1 }).expect(201);
  });

  it('holds the lock until a streamed response (StreamableFile) ends', async () => {
    const server = app.getHttpServer();
    const pending = request(server)
      .get('/orders/export/3')
      .then((response) => response);
    await eventually(async () =>
      expect((await probe.values('export:3')).filter(Boolean)).toHaveLength(3),
    );
    expect((await request(server).get('/orders/export/3')).status).toBe(423);
    expect((await pending).text).toBe('part 1\npart 2\n');
    await eventually(async () =>
      expect(await probe.values('export:3')).toEqual([null, null, null]),
    );
  });

  it('answers 400 without a value the template needs, and takes no lock', async () => {
    const before = await probe.lockCommands();
    const response = await request(app.getHttpServer()).post('/orders/by-body').send({});
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, reason: 'invalid-key' });
    expect(await probe.lockCommands()).toEqual(before);
  });

  it('answers a ResourceLockedError thrown by a @WithLock service 423 as well', async () => {
    const server = app.getHttpServer();
    const [first, second] = await Promise.all([
      request(server).get('/orders/invoice/9'),
      sleep(50).then(() => request(server).get('/orders/invoice/9')),
    ]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(423);
    expect(second.body).toMatchObject({ statusCode: 423, reason: 'locked' });
    expect(second.body).not.toHaveProperty('resources');
  });

  it('answers 423 (or 503 with unavailableStatus) when too few nodes answer', async () => {
    const dead = [`redis://127.0.0.1:${await freePort()}`, `redis://127.0.0.1:${await freePort()}`];
    for (const [options, status] of [
      [{}, 423],
      [{ unavailableStatus: 503 }, 503],
    ] as const) {
      const degraded = await start([cluster.urls[0], ...dead], options);
      try {
        const response = await request(degraded.getHttpServer())
          .post('/orders/6/pay')
          .send({ ms: 1 });
        expect(response.status).toBe(status);
        expect(response.body.reason).toBe('unavailable');
      } finally {
        await degraded.close();
      }
    }
  });

  it('lets lockMiddleware use the app’s RedlockService', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false, keyPrefix: 'mw:' })],
    }).compile();
    const nest = moduleRef.createNestApplication({ logger: false });
    const redlock = nest.get(RedlockService);
    nest.use('/jobs/:id', lockMiddleware({ redlock, key: 'job:<params.id>' }));
    nest.use('/jobs/:id', (req: { lock: RequestLock }, res: { end(body: string): void }) =>
      res.end(req.lock.lock.resources.join()),
    );
    await nest.init();
    try {
      const response = await request(nest.getHttpServer()).get('/jobs/3');
      expect(response.text).toBe('mw:job:3');
    } finally {
      await nest.close();
    }
  });
});
