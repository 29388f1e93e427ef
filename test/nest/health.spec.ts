import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Redlock, RedlockModule } from '../../lib/index.js';
import { HealthModule } from '../../examples/health.js';
import { eventually } from '../support/eventually.js';
import { RedisCluster, RedisServer } from '../support/redis-nodes.js';
import { watchTimers } from '../support/timer-watch.js';

describe('RedlockHealthIndicator and Redlock.health() (3 real nodes)', () => {
  let cluster: RedisCluster;
  let app: INestApplication;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    const moduleRef = await Test.createTestingModule({
      // The README's example module (examples/health.ts), on a global RedlockModule.
      imports: [
        RedlockModule.forRoot({ nodes: cluster.urls, logger: false, isGlobal: true }),
        HealthModule,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterEach(() => cluster.heal());
  afterAll(async () => {
    await app.close();
    await cluster.stop();
  });

  const label = (index: number) => `127.0.0.1:${cluster.servers[index].port}`;

  it('reports up, with every node and its latency, while all nodes answer', async () => {
    const response = await request(app.getHttpServer()).get('/health');
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('ok');
    expect(response.body.info.redlock).toMatchObject({ status: 'up', quorum: 2, up: 3 });
    expect(response.body.info.redlock.nodes).toEqual(
      [0, 1, 2].map((index) => ({
        node: label(index),
        up: true,
        latencyMs: expect.any(Number),
      })),
    );
  });

  it('stays up with one node of three down, naming it', async () => {
    await cluster.servers[1].kill();
    const response = await request(app.getHttpServer()).get('/health');
    expect(response.status).toBe(200);
    expect(response.body.info.redlock).toMatchObject({ status: 'up', up: 2 });
    expect(response.body.info.redlock.nodes[1]).toMatchObject({
      node: label(1),
      up: false,
      error: expect.stringMatching(/not ready|ECONNREFUSED|closed/i),
    });
  });

  it('answers 503, down, once no quorum counts: a node restarted, one killed, one paused', async () => {
    await cluster.servers[1].restart();
    // Reconnected, node 1 answers PING but does not count during restartDelayMs.
    await eventually(async () => {
      const response = await request(app.getHttpServer()).get('/health');
      expect(response.body.info.redlock.nodes[1]).toMatchObject({
        up: false,
        latencyMs: expect.any(Number),
        error: expect.stringMatching(/restarted, so its votes count again in \d+ ms/),
      });
    }, 5_000);
    await cluster.servers[0].kill();
    cluster.servers[2].pause();
    const response = await request(app.getHttpServer()).get('/health');
    expect(response.status).toBe(503);
    expect(response.body.status).toBe('error');
    expect(response.body.error.redlock).toMatchObject({ status: 'down', quorum: 2, up: 0 });
    expect(response.body.error.redlock.nodes[2]).toMatchObject({
      up: false,
      error: expect.stringMatching(/No answer .* within 250 ms/),
    });
  });

  it('answers 503 when 2 of 3 nodes are replicas: they answer PING but cannot lock', async () => {
    const replicas = await Promise.all(
      [0, 1].map(() =>
        RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(cluster.servers[2].port)] }),
      ),
    );
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedlockModule.forRoot({
          nodes: [...replicas.map((replica) => replica.url), cluster.urls[2]],
          logger: false,
          isGlobal: true,
        }),
        HealthModule,
      ],
    }).compile();
    const replicated = moduleRef.createNestApplication({ logger: false });
    try {
      await replicated.init();
      const response = await request(replicated.getHttpServer()).get('/health');
      expect(response.status).toBe(503);
      expect(response.body.error.redlock).toMatchObject({ status: 'down', quorum: 2, up: 1 });
      expect(response.body.error.redlock.nodes[0]).toMatchObject({
        up: false,
        problem: 'read-only',
        error: expect.stringMatching(/replica/),
      });
    } finally {
      await replicated.close();
      await Promise.all(replicas.map((replica) => replica.stop()));
    }
  });

  it('never rejects and leaves nothing behind on a Redlock of its own', async () => {
    const timers = watchTimers();
    const redlock = new Redlock([...cluster.urls, 'redis://127.0.0.1:1']);
    try {
      const health = await redlock.health();
      expect(health).toMatchObject({ quorum: 3, quorumReachable: true });
      expect(health.nodes[3]).toMatchObject({ node: '127.0.0.1:1', up: false });
    } finally {
      await redlock.quit();
    }
    expect(await timers.settled()).toEqual([]);
    timers.stop();
  });
});
