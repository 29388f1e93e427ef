import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { RedisCluster } from './support/redis-nodes.js';
import { eventually } from './support/eventually.js';

type Example = typeof import('../examples/quick-start.js');

/** Each `// #region` of the example file, as the README must show it. */
function regions(source: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of source.matchAll(/\/\/ #region (\S+)\n([\s\S]*?)\/\/ #endregion/g)) {
    found.set(match[1], match[2].trimEnd());
  }
  return found;
}

describe('the README examples', () => {
  let cluster: RedisCluster;
  let example: Example;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    process.env.REDLOCK_NODES = cluster.urls.join(',');
    process.env.STORAGE_URL = `${cluster.urls[0]}/1`;
    example = await import('../examples/quick-start.js');
  });
  afterAll(async () => {
    await example.shutdown();
    await cluster.stop();
  });

  it('appear in the README verbatim', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const read = (file: string) =>
      readFileSync(new URL(`../examples/${file}`, import.meta.url), 'utf8');
    const found = new Map(
      ['quick-start.ts', 'nest-orders.ts', 'http.ts', 'fencing.ts', 'health.ts'].flatMap((file) => [
        ...regions(read(file)),
      ]),
    );
    expect([...found.keys()]).toEqual([
      'quick-start',
      'acquire-release',
      'read-write',
      'semaphore',
      'votes',
      'nest-module',
      'express',
      'express-abort',
      'nest-interceptor',
      'fencing',
      'health',
    ]);
    for (const code of found.values()) expect(readme).toContain(code);
  });

  it('compat: appears in the README and the migration guide verbatim', () => {
    const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
    const found = regions(read('examples/compat.ts'));
    expect([...found.keys()]).toEqual(['compat']);
    expect(read('README.md')).toContain(found.get('compat'));
    expect(read('docs/migrating-from-node-redlock.md')).toContain(found.get('compat'));
  });

  it('compat: node-redlock v5 code runs the nightly report on one instance only', async () => {
    const compat = await import('../examples/compat.js');
    try {
      let runs = 0;
      const run = async () => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      };
      const outcomes = await Promise.all([compat.nightlyReport(run), compat.nightlyReport(run)]);
      expect(outcomes.sort()).toEqual(['ran', 'skipped']);
      expect(runs).toBe(1);
      await expect(compat.nightlyReport(run)).resolves.toBe('ran');
    } finally {
      await compat.shutdown();
    }
  });

  it('nest-module: concurrent charges of one order all count', async () => {
    const { OrdersModule, OrdersService } = await import('../examples/nest-orders.js');
    const { NestFactory } = await import('@nestjs/core');
    const app = await NestFactory.createApplicationContext(OrdersModule, { logger: false });
    try {
      const orders = app.get(OrdersService);
      const totals = await Promise.all(Array.from({ length: 5 }, () => orders.charge('7', 100)));
      expect(totals.sort()).toEqual([100, 200, 300, 400, 500]);
    } finally {
      await app.close();
    }
  });

  it('express: a second concurrent payment of one order gets 423', async () => {
    const http = await import('../examples/http.js');
    const request = (await import('supertest')).default;
    try {
      const [first, second] = await Promise.all([
        request(http.app).post('/orders/1/pay'),
        request(http.app).post('/orders/1/pay'),
      ]);
      expect([first.status, second.status].sort()).toEqual([200, 423]);
      const shipped = await request(http.app).post('/orders/1/ship');
      expect(shipped.body).toEqual({ shipped: '1' });
    } finally {
      await http.shutdown();
    }
  });

  it('nest-interceptor: the route answers under its lock', async () => {
    const { OrdersController } = await import('../examples/http.js');
    const { Test } = await import('@nestjs/testing');
    const { RedlockModule } = await import('../lib/index.js');
    const request = (await import('supertest')).default;
    const moduleRef = await Test.createTestingModule({
      imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false })],
      controllers: [OrdersController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const response = await request(app.getHttpServer()).post('/orders/7/refund');
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ refunded: '7' });
    } finally {
      await app.close();
    }
  });

  it('quick start: of two concurrent senders, exactly one sends', async () => {
    let sends = 0;
    const send = async () => {
      sends++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    };
    const outcomes = await Promise.all([
      example.sendInvoiceOnce('42', send),
      example.sendInvoiceOnce('42', send),
    ]);
    expect(outcomes.sort()).toEqual(['sent', 'skipped']);
    expect(sends).toBe(1);
    await expect(example.sendInvoiceOnce('42', send)).resolves.toBe('sent');
  });

  it('read-write: loads share a document, a save waits for them and excludes them', async () => {
    const log: string[] = [];
    const reading = (name: string, ms: number) => async () => {
      log.push(`${name} start`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      log.push(`${name} end`);
      return name;
    };
    const first = example.loadDocument('1', reading('load1', 300));
    const second = example.loadDocument('1', reading('load2', 300));
    // Both loads are under way at once: reads share.
    await eventually(() => expect(log).toEqual(['load1 start', 'load2 start']));
    let token = 0n;
    const save = example.saveDocument('1', async (_signal, fencingToken) => {
      log.push('save');
      token = fencingToken;
    });
    expect(await Promise.all([first, second])).toEqual(['load1', 'load2']);
    await save;
    // The save waited for both loads to end.
    expect(log.slice(2).sort()).toEqual(['load1 end', 'load2 end', 'save'].sort());
    expect(log[4]).toBe('save');
    expect(token).toBeGreaterThan(0n);
  });

  it('semaphore: at most 3 exports of a tenant run at once, the rest wait their turn', async () => {
    let running = 0;
    let most = 0;
    const run = async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 100));
      running--;
    };
    await Promise.all(Array.from({ length: 7 }, () => example.exportReport('t1', run)));
    expect(most).toBe(3);
    // The partner API: 10 at once, the 11th fails fast while they are out.
    const calls = Array.from({ length: 10 }, () =>
      example.callPartner(() => new Promise((resolve) => setTimeout(() => resolve('ok'), 300))),
    );
    await eventually(async () =>
      expect(await example.callPartner(async () => 'ok').catch((error) => error.code)).toBe(
        'RESOURCE_LOCKED',
      ),
    );
    expect(await Promise.all(calls)).toEqual(Array(10).fill('ok'));
  });

  it('votes: a refusal names each node and its answer', async () => {
    const { Redlock } = await import('../lib/index.js');
    const other = new Redlock(cluster.urls);
    try {
      const held = await other.acquire('report:votes', 5_000);
      const refused = await example.whoRefused('report:votes');
      // Two refusals decide it: the third node may not have answered by then, or may have
      // granted (the holder's acquire was decided by two nodes, before its third SET landed).
      expect(refused.map((entry) => entry.split(' ')[0])).toEqual(
        cluster.servers.map((server) => `127.0.0.1:${server.port}`),
      );
      expect(refused.filter((entry) => entry.endsWith(' against')).length).toBeGreaterThanOrEqual(
        2,
      );
      expect(refused.every((entry) => / (against|pending|for)$/.test(entry))).toBe(true);
      await held.release();
      expect(await example.whoRefused('report:votes')).toEqual([]);
    } finally {
      await other.quit();
    }
  });

  it('acquire-release: two moves on the same warehouses run one after the other', async () => {
    const log: string[] = [];
    const move = (name: string) => async () => {
      log.push(`${name} start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      log.push(`${name} end`);
    };
    await Promise.all([
      example.moveStock('a', 'b', move('first')),
      example.moveStock('b', 'a', move('second')),
    ]);
    expect(log).toHaveLength(4);
    expect(log[0].split(' ')[0]).toBe(log[1].split(' ')[0]);
  });

  it('fencing: concurrent credits of one account all count', async () => {
    const fencing = await import('../examples/fencing.js');
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => fencing.credit('7', 10)));
      expect(results.sort((a, b) => a - b)).toEqual([10, 20, 30, 40, 50]);
    } finally {
      await fencing.shutdown();
    }
  });
});
