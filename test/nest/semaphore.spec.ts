import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Param, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import express from 'express';
import type { Server } from 'node:http';
import request from 'supertest';
import {
  LockKindMismatchError,
  LockRoute,
  Redlock,
  RedlockModule,
  RedlockService,
  WithLock,
  WithSemaphore,
  lockMiddleware,
} from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { RedisCluster } from '../support/redis-nodes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Exports of a tenant's reports, at most 2 at once; records how many ran at once. */
@Injectable()
class Exports {
  running = 0;
  most = 0;

  constructor(readonly redlock: RedlockService) {}

  @WithSemaphore('exports:<tenant>', { limit: 2, retryCount: -1, retryDelayMs: 5 })
  async run(tenant: string, ms: number): Promise<{ mode?: string; slot?: number }> {
    this.running++;
    this.most = Math.max(this.most, this.running);
    await sleep(ms);
    this.running--;
    void tenant;
    const lock = this.redlock.current()?.lock;
    return { mode: lock?.mode, slot: lock?.slot };
  }

  /** Takes a permit, then asks for one of the same semaphore inside: runs at once with it. */
  @WithSemaphore('exports:<tenant>', { limit: 2 })
  async nested(tenant: string): Promise<{ mode?: string; slot?: number }> {
    return this.run(tenant, 0);
  }

  @WithSemaphore('exports:<tenant>', { limit: 2, onLocked: 'skip', retryCount: 0 })
  async orSkip(tenant: string): Promise<string> {
    void tenant;
    return 'ran';
  }

  /** A permit's key asked for as a lock inside: refused at once. */
  @WithSemaphore('exports:<tenant>', { limit: 2 })
  async lockInside(tenant: string): Promise<void> {
    await this.locked(tenant);
  }

  @WithLock('exports:<tenant>')
  async locked(tenant: string): Promise<void> {
    void tenant;
  }
}

@Controller('partner')
class PartnerController {
  @Get(':id')
  @LockRoute('partner-api', { limit: 2, retryCount: 0 })
  async quote(@Param('id') id: string) {
    await sleep(300);
    return { id };
  }
}

describe('@WithSemaphore, and `limit` on @LockRoute and lockMiddleware (3 real nodes)', () => {
  let cluster: RedisCluster;
  let probe: NodeProbe;
  let app: INestApplication;
  let exports: Exports;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
    const moduleRef = await Test.createTestingModule({
      imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false })],
      providers: [Exports],
      controllers: [PartnerController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    exports = app.get(Exports);
  });
  afterEach(async () => {
    exports.running = 0;
    exports.most = 0;
    await probe.flush();
  });
  afterAll(async () => {
    await app.close();
    await probe.quit();
    await cluster.stop();
  });

  it('runs at most `limit` calls at once, and exposes the permit as current()', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => exports.run('t1', 50)));
    expect(exports.most).toBe(2);
    expect(results.every((result) => result.mode === 'permit')).toBe(true);
    expect(new Set(results.map((result) => result.slot))).toEqual(new Set([0, 1]));
  });

  it('is reentrant within a permit, skips when full if asked, and refuses a lock on its key', async () => {
    expect(await exports.nested('t2')).toEqual({ mode: 'permit', slot: 0 });
    // Both permits held: 'skip' resolves to undefined without running.
    const holders = [exports.run('t3', 300), exports.run('t3', 300)];
    await eventually(() => expect(exports.running).toBe(2));
    expect(await exports.orSkip('t3')).toBeUndefined();
    await Promise.all(holders);
    expect(await exports.orSkip('t3')).toBe('ran');
    const clash = await exports.lockInside('t4').catch((error: unknown) => error);
    expect(clash).toBeInstanceOf(LockKindMismatchError);
    expect(clash).toMatchObject({ wanted: 'mutex', found: 'semaphore:2' });
  });

  it('refuses bad options when the class is defined', () => {
    const define =
      (options: object, key: unknown = 'k:<id>') =>
      () => {
        class Bad {
          @WithSemaphore(key as string, options as never)
          async run(id: string) {
            void id;
          }
        }
        return Bad;
      };
    expect(define({})).toThrow(/@WithSemaphore on Bad.run: .*`limit` of a semaphore/);
    expect(define({ limit: 0 })).toThrow(RangeError);
    expect(define({ limit: 2.5 })).toThrow(RangeError);
    expect(define({ limit: 2, fencing: true })).toThrow(/fencing/);
    expect(define({ limit: 2, limt: 3 })).toThrow(/limt/);
    expect(define({ limit: 2 }, ['a:<id>', 'b:<id>'])).toThrow(/one key/);
    expect(() => LockRoute('k', { limit: 2, mode: 'read' })).toThrow(/no `mode` with `limit`/);
    expect(() => LockRoute(['a', 'b'], { limit: 2 })).toThrow(/one key/);
    expect(() => LockRoute('k', { limit: 1001 })).toThrow(RangeError);
  });

  it('@LockRoute with `limit`: the third concurrent request answers 429 with Retry-After', async () => {
    const server = app.getHttpServer() as Server;
    const first = [request(server).get('/partner/1'), request(server).get('/partner/2')].map((r) =>
      r.then((response) => response.status),
    );
    await eventually(async () =>
      expect(await probe.values('partner-api')).toEqual(Array(3).fill('!sem:2')),
    );
    await eventually(async () => {
      const held = await Promise.all(
        [0, 1].map((slot) => probe.values(`partner-api:redlock:permit:${slot}`)),
      );
      expect(held.flat().every((value) => value !== null)).toBe(true);
    });
    const third = await request(server).get('/partner/3');
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toMatch(/^\d+$/);
    expect(third.body).toMatchObject({ statusCode: 429, reason: 'busy' });
    expect(await Promise.all(first)).toEqual([200, 200]);
    expect((await request(server).get('/partner/4')).status).toBe(200);
  });

  it('lockMiddleware with `limit`: 429 when full, and needs an engine with usingSemaphore', async () => {
    const redlock = new Redlock(cluster.urls);
    const web = express();
    web.get(
      '/quotes/:id',
      lockMiddleware({ redlock, key: 'quotes', limit: 1, retryCount: 0 }),
      async (_req, res) => {
        await sleep(300);
        res.end('ok');
      },
    );
    const server = web.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const first = request(server)
        .get('/quotes/1')
        .then((response) => response.status);
      await eventually(async () =>
        expect(await probe.values('quotes:redlock:permit:0')).not.toContain(null),
      );
      const second = await request(server).get('/quotes/2');
      expect(second.status).toBe(429);
      expect(second.headers['retry-after']).toMatch(/^\d+$/);
      expect(await first).toBe(200);
      expect(() =>
        lockMiddleware({ redlock: { using: redlock.using.bind(redlock) }, key: 'q', limit: 2 }),
      ).toThrow(/usingSemaphore/);
      expect(() => lockMiddleware({ redlock, key: 'q', limit: 2, mode: 'write' })).toThrow(
        /no `mode` with `limit`/,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await redlock.quit();
    }
  });
});
