import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import express from 'express';
import type { Server } from 'node:http';
import request from 'supertest';
import { Redlock } from 'nestjs-redlock/core';
import { lockMiddleware, type RequestLock } from 'nestjs-redlock/express';
import { expectSecondLocked } from '../support/concurrent-requests.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { freePort, RedisCluster } from '../support/redis-nodes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('lockMiddleware in a plain Express app (3 real nodes)', () => {
  let cluster: RedisCluster;
  let probe: NodeProbe;
  let redlock: Redlock;
  let server: Server;
  let seenLocks: string[];

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
    redlock = new Redlock(cluster.urls);
    const app = express();
    app.use(express.json());
    const lockOrder = lockMiddleware({
      redlock,
      key: 'order:<params.id>',
      ttlMs: 2_000,
      retryCount: 0,
    });
    app.post('/orders/:id/pay', lockOrder, async (req, res) => {
      const { lock } = (req as unknown as { lock: RequestLock }).lock;
      seenLocks.push(lock.resources[0]);
      await sleep(Number(req.query.ms ?? 200));
      if (req.query.fail) {
        res.status(500).json({ failed: true });
        return;
      }
      res.json({ paid: req.params.id });
    });
    app.post(
      '/carts',
      lockMiddleware({
        redlock,
        key: ['cart:<body.cartId>', 'tenant:<headers.X-Tenant>'],
        retryCount: 0,
      }),
      (_req, res) => void res.json({ ok: true }),
    );
    app.put(
      '/ledger/:id',
      lockMiddleware({ redlock, key: 'ledger:<params.id>', fencing: true }),
      (req, res) => {
        const { lock } = (req as unknown as { lock: RequestLock }).lock;
        res.json({ token: String(lock.fencingToken) });
      },
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
  });
  beforeEach(() => {
    seenLocks = [];
  });
  afterEach(async () => {
    await probe.flush();
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await redlock.quit();
    await probe.quit();
    await cluster.stop();
  });

  it('lets one of two concurrent requests on an order through and answers the other 423', async () => {
    const body = await expectSecondLocked(server, '/orders/1/pay?ms=300', {}, 200, 'order:1');
    expect(body).toEqual({ paid: '1' });
    expect(seenLocks).toEqual(['order:1']);
  });

  it('hands the route a fencing token with fencing: true', async () => {
    const first = await request(server).put('/ledger/1').expect(200);
    const second = await request(server).put('/ledger/1').expect(200);
    expect([first.body, second.body]).toEqual([{ token: '1' }, { token: '2' }]);
  });

  it('runs requests on different orders in parallel', async () => {
    const responses = await Promise.all(
      ['2', '3', '4'].map((id) => request(server).post(`/orders/${id}/pay`)),
    );
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
  });

  it('releases after success and after an error response', async () => {
    await request(server).post('/orders/5/pay?ms=1').expect(200);
    await request(server).post('/orders/5/pay?ms=1&fail=1').expect(500);
    await request(server).post('/orders/5/pay?ms=1').expect(200);
    await eventually(async () => expect(await probe.values('order:5')).toEqual([null, null, null]));
  });

  it('answers 400 when the request lacks a key value, and takes no lock', async () => {
    const before = await probe.lockCommands();
    const response = await request(server).post('/carts').set('X-Tenant', 't1').send({});
    expect(response.status).toBe(400);
    expect(response.body.reason).toBe('invalid-key');
    expect(response.body.message).toMatch(/<body.cartId> is undefined/);
    expect(await probe.lockCommands()).toEqual(before);
    await request(server).post('/carts').set('X-Tenant', 't1').send({ cartId: 9 }).expect(200);
  });

  it('answers 423 with reason unavailable, or 503 if asked, when too few nodes answer', async () => {
    const dead = [`redis://127.0.0.1:${await freePort()}`, `redis://127.0.0.1:${await freePort()}`];
    const degraded = new Redlock([cluster.urls[0], ...dead], { retryCount: 0 });
    const app = express();
    app.get(
      '/a',
      lockMiddleware({ redlock: degraded, key: 'a' }),
      (_req, res) => void res.send('a'),
    );
    app.get(
      '/b',
      lockMiddleware({ redlock: degraded, key: 'b', unavailableStatus: 503 }),
      (_req, res) => void res.send('b'),
    );
    const a = await request(app).get('/a');
    expect(a.status).toBe(423);
    expect(a.body.reason).toBe('unavailable');
    const b = await request(app).get('/b');
    expect(b.status).toBe(503);
    expect(b.body).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      reason: 'unavailable',
    });
    await degraded.quit();
  });

  it('checks its options when it is made', () => {
    expect(() => lockMiddleware({ redlock: {} as never, key: 'a' })).toThrow(/`redlock`/);
    expect(() => lockMiddleware({ redlock, key: 'a:<param.id>' })).toThrow(/<param.id>/);
    expect(() => lockMiddleware({ redlock, key: 'a', ttlMs: 0 })).toThrow(/`ttlMs`/);
    expect(() => lockMiddleware({ redlock, key: [] })).toThrow(TypeError);
  });
});
