import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Param, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import express from 'express';
import type { Server } from 'node:http';
import request from 'supertest';
import {
  LockRoute,
  LockUpgradeError,
  Redlock,
  RedlockModule,
  RedlockService,
  WithLock,
  isLockError,
  lockMiddleware,
} from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { RedisCluster } from '../support/redis-nodes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A document store whose reads and writes record when they ran, to see what overlapped. */
@Injectable()
class Documents {
  log: string[] = [];

  constructor(readonly redlock: RedlockService) {}

  @WithLock('doc:<id>', { mode: 'read', retryCount: -1, retryDelayMs: 5 })
  async read(id: string, ms: number, name = 'read'): Promise<string | undefined> {
    this.log.push(`${name} start`);
    await sleep(ms);
    this.log.push(`${name} end`);
    void id;
    return this.redlock.current()?.lock.mode;
  }

  @WithLock('doc:<id>', { mode: 'write', retryCount: -1, retryDelayMs: 5 })
  async write(id: string, ms: number): Promise<string | undefined> {
    this.log.push('write start');
    await sleep(ms);
    this.log.push('write end');
    void id;
    return this.redlock.current()?.lock.mode;
  }

  /** Writes, then reads inside: the write lock covers the read. */
  @WithLock('doc:<id>')
  async writeThenRead(id: string): Promise<string | undefined> {
    return this.read(id, 0);
  }

  /** Reads, then asks to write inside: an upgrade, refused at once. */
  @WithLock('doc:<id>', { mode: 'read' })
  async readThenWrite(id: string): Promise<string | undefined> {
    return this.write(id, 0);
  }
}

@Controller('docs')
class DocumentsController {
  @Get(':id')
  @LockRoute('doc:<params.id>', { mode: 'read', retryCount: 0 })
  async show(@Param('id') id: string) {
    await sleep(300);
    return { id };
  }

  @Post(':id')
  @LockRoute('doc:<params.id>', { retryCount: 0 })
  async save(@Param('id') id: string) {
    await sleep(300);
    return { saved: id };
  }
}

describe('read and write modes of @WithLock, @LockRoute and lockMiddleware (3 real nodes)', () => {
  let cluster: RedisCluster;
  let probe: NodeProbe;
  let app: INestApplication;
  let documents: Documents;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
    const moduleRef = await Test.createTestingModule({
      imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false })],
      providers: [Documents],
      controllers: [DocumentsController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    documents = app.get(Documents);
  });
  afterEach(async () => {
    documents.log = [];
    await probe.flush();
  });
  afterAll(async () => {
    await app.close();
    await probe.quit();
    await cluster.stop();
  });

  it('@WithLock: reads overlap, a write waits for them and excludes them', async () => {
    const first = documents.read('1', 300, 'read1');
    const second = documents.read('1', 300, 'read2');
    await eventually(() => expect(documents.log).toEqual(['read1 start', 'read2 start']));
    const write = documents.write('1', 0);
    expect(await Promise.all([first, second])).toEqual(['read', 'read']);
    expect(await write).toBe('write');
    expect(documents.log.slice(-2)).toEqual(['write start', 'write end']);
  });

  it('@WithLock: a read inside a write runs at once; a write inside a read fails at once', async () => {
    expect(await documents.writeThenRead('2')).toBe('write');
    const upgrade = await documents.readThenWrite('3').catch((error: unknown) => error);
    expect(upgrade).toBeInstanceOf(LockUpgradeError);
    expect(isLockError(upgrade, 'LOCK_UPGRADE')).toBe(true);
    expect((upgrade as LockUpgradeError).resources).toEqual(['doc:3']);
    // Nothing is left behind by the refused upgrade.
    await eventually(async () => expect(await probe.values('doc:3')).toEqual([null, null, null]));
  });

  it('refuses a misspelt mode, fencing on a read, and several keys to read, when the class is defined', () => {
    const define = (keys: string | string[], options: object) => () => {
      class Bad {
        @WithLock(keys, options)
        async run(id: string) {
          void id;
        }
      }
      return Bad;
    };
    expect(define('doc:<id>', { mode: 'reed' })).toThrow(/`mode` to be 'read' or 'write'/);
    expect(define('doc:<id>', { mode: 'read', fencing: true })).toThrow(/no `fencing`/);
    expect(define(['a:<id>', 'b:<id>'], { mode: 'read' })).toThrow(/one resource/);
    expect(() => LockRoute('doc:<params.id>', { mode: 'both' as never })).toThrow(/`mode`/);
  });

  it('@LockRoute: readers share a document; a save meanwhile answers 423, and reads during a save too', async () => {
    const server = app.getHttpServer() as Server;
    const reads = [request(server).get('/docs/7'), request(server).get('/docs/7')].map((r) =>
      r.then((response) => response.status),
    );
    await eventually(async () =>
      expect(await probe.values('doc:7')).toEqual(Array(3).fill('!readers')),
    );
    expect((await request(server).post('/docs/7')).status).toBe(423);
    expect(await Promise.all(reads)).toEqual([200, 200]);

    const save = request(server)
      .post('/docs/8')
      .then((response) => response.status);
    await eventually(async () =>
      expect(
        (await probe.values('doc:8')).filter((value) => value && value !== '!readers'),
      ).toHaveLength(3),
    );
    expect((await request(server).get('/docs/8')).status).toBe(423);
    expect(await save).toBe(201);
  });

  it("lockMiddleware: mode 'read' shares, and needs an engine with usingRead", async () => {
    const redlock = new Redlock(cluster.urls);
    const web = express();
    web.get(
      '/reports/:id',
      lockMiddleware({ redlock, key: 'report:<params.id>', mode: 'read', retryCount: 0 }),
      async (_req, res) => {
        await sleep(300);
        res.end('ok');
      },
    );
    web.post(
      '/reports/:id',
      lockMiddleware({ redlock, key: 'report:<params.id>', retryCount: 0 }),
      (_req, res) => res.end('saved'),
    );
    const server = web.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const reads = [request(server).get('/reports/1'), request(server).get('/reports/1')].map(
        (r) => r.then((response) => response.status),
      );
      await eventually(async () =>
        expect(await probe.values('report:1')).toEqual(Array(3).fill('!readers')),
      );
      expect((await request(server).post('/reports/1')).status).toBe(423);
      expect(await Promise.all(reads)).toEqual([200, 200]);
      expect(() =>
        lockMiddleware({
          redlock: { using: redlock.using.bind(redlock) },
          key: 'report:<params.id>',
          mode: 'read',
        }),
      ).toThrow(/usingRead/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await redlock.quit();
    }
  });
});
