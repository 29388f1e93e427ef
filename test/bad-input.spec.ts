import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Injectable, Post, UseInterceptors } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import express from 'express';
import { Redis } from 'ioredis';
import type { Server } from 'node:http';
import request from 'supertest';
import {
  FencedRedisStore,
  InvalidLockKeyError,
  LockInterceptor,
  LockRoute,
  Redlock,
  RedlockModule,
  RedlockService,
  WithLock,
  lockMiddleware,
  type Lock,
} from '../lib/index.js';
import { NodeProbe } from './support/node-probe.js';
import { RedisCluster } from './support/redis-nodes.js';

/**
 * Malformed input at every public entry: the engine, the module options, the decorators'
 * templates and options, the fenced store, and requests through the interceptor and the
 * middleware. Each gives a typed error with a message naming what is wrong, nothing crashes
 * (an unhandled rejection fails the run), and no lock is left on any node.
 */
describe('bad input at every public entry (3 real nodes)', () => {
  let cluster: RedisCluster;
  let probe: NodeProbe;
  let redlock: Redlock;
  let storage: Redis;
  let service: RedlockService;
  let serviceModule: { close(): Promise<void> };

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
    redlock = new Redlock(cluster.urls, { retryCount: 0 });
    storage = new Redis(`${cluster.urls[0]}/1`);
    const moduleRef = await Test.createTestingModule({
      imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false })],
    }).compile();
    service = moduleRef.get(RedlockService);
    serviceModule = moduleRef;
    // Connected and probed: a new connection's probe script is no lock command.
    await redlock.health();
    await service.redlock.health();
  });
  const lockCommands = () => probe.lockCommands();
  afterAll(async () => {
    await redlock.quit();
    await storage.quit();
    await serviceModule.close();
    await probe.quit();
    await cluster.stop();
  });

  type Case = [entry: string, call: () => unknown, type: ErrorConstructor, message: RegExp];

  /** Fails at once, with the error thrown synchronously or as a rejection. */
  const expectTypedError = async (call: () => unknown, type: ErrorConstructor, message: RegExp) => {
    let outcome: unknown;
    try {
      outcome = await call();
    } catch (error) {
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
      return;
    }
    throw new Error(`expected ${type.name} matching ${message}, got ${String(outcome)}`);
  };

  const engineCases: Case[] = [
    [
      'Redlock: fencing not a boolean',
      () => new Redlock(['redis://a'], { fencing: 1 as never }),
      TypeError,
      /`fencing` to be true or false, got 1/,
    ],
    [
      'Redlock: restartDelayMs < 0',
      () => new Redlock(['redis://a'], { restartDelayMs: -1 }),
      RangeError,
      /`restartDelayMs`/,
    ],
    [
      'Redlock: restartDelayMs not an integer',
      () => new Redlock(['redis://a'], { restartDelayMs: 0.5 }),
      RangeError,
      /`restartDelayMs`/,
    ],
    [
      'acquire: fencing a string',
      () => redlock.acquire('a', 1_000, { fencing: 'yes' as never }),
      TypeError,
      /`options.fencing`/,
    ],
    [
      'acquire: a resource that is a number',
      () => redlock.acquire(42 as never, 1_000),
      TypeError,
      /`resources`/,
    ],
    [
      'acquire: a resource with a lone surrogate (it would share its key with others)',
      () => redlock.acquire(['ok', 'a\uD800'], 1000),
      InvalidLockKeyError as unknown as ErrorConstructor,
      /`resources\[1\]` to be well-formed text, got one with a lone UTF-16 surrogate/,
    ],
    ['acquire: ttl as a string', () => redlock.acquire('a', '10s' as never), RangeError, /`ttlMs`/],
    [
      'release: not a lock',
      () => redlock.release({ value: 'x' } as never),
      TypeError,
      /`lock` to be a Lock/,
    ],
    [
      'extend: not a lock',
      () => redlock.extend(null as never, 1_000),
      TypeError,
      /`lock` to be a Lock/,
    ],
    [
      'using: routine not a function',
      () => redlock.using('a', 1_000, 'go' as never),
      TypeError,
      /`routine`/,
    ],
    ['using: ttl 0', () => redlock.using('a', 0, async () => 1), RangeError, /`ttlMs`/],
    [
      'FencedRedisStore: not a client',
      () => new FencedRedisStore('redis://x' as never),
      TypeError,
      /ioredis/,
    ],
    [
      'FencedRedisStore.get: token a number',
      () => new FencedRedisStore(storage).get('k', 5 as never),
      TypeError,
      /`token`.*got number/,
    ],
    [
      'FencedRedisStore.get: negative token',
      () => new FencedRedisStore(storage).get('k', -1n),
      TypeError,
      /`token`.*got -1/,
    ],
    [
      'FencedRedisStore.set: value not a string',
      () => new FencedRedisStore(storage).set('k', {} as never, 1n),
      TypeError,
      /`value`/,
    ],
    [
      'FencedRedisStore.set: empty key',
      () => new FencedRedisStore(storage).set('', 'v', 1n),
      TypeError,
      /`key`/,
    ],
    [
      'RedlockService.acquire: no resources',
      () => service.acquire(undefined as never),
      TypeError,
      /`resources`/,
    ],
    [
      'RedlockService.using: ttl -1',
      () => service.using('a', -1, async () => 1),
      RangeError,
      /`ttlMs`/,
    ],
    [
      'RedlockService.extend: not a lock',
      () => service.extend('lock' as never),
      TypeError,
      /`lock` to be a Lock/,
    ],
  ];

  it.each(engineCases)('%s', async (_, call, type, message) => {
    const before = await lockCommands();
    await expectTypedError(call, type, message);
    // Refused before any network call.
    expect(await lockCommands()).toEqual(before);
  });

  const compile = (options: unknown) =>
    Test.createTestingModule({
      imports: [RedlockModule.forRoot({ nodes: cluster.urls, ...(options as object) })],
    })
      .compile()
      .then((moduleRef) => moduleRef.close());
  const compileAsync = (factory: () => unknown) =>
    Test.createTestingModule({
      imports: [RedlockModule.forRootAsync({ useFactory: factory as never })],
    })
      .compile()
      .then((moduleRef) => moduleRef.close());

  const moduleCases: Case[] = [
    [
      'forRoot: defaultTtlMs 0',
      () => compile({ defaultTtlMs: 0 }),
      RangeError,
      /RedlockModule.*`defaultTtlMs`/,
    ],
    [
      'forRoot: keyPrefix a number',
      () => compile({ keyPrefix: 5 }),
      TypeError,
      /RedlockModule.*`keyPrefix`/,
    ],
    [
      'forRoot: fencing a string',
      () => compile({ fencing: 'on' }),
      TypeError,
      /RedlockModule.*`fencing`/,
    ],
    [
      'forRoot: unavailableStatus 500',
      () => compile({ unavailableStatus: 500 }),
      RangeError,
      /RedlockModule.*`unavailableStatus`/,
    ],
    [
      'forRoot: a minority quorum',
      () => compile({ quorum: 1 }),
      RangeError,
      /RedlockModule.*`quorum`/,
    ],
    [
      'forRoot: a bad node URL',
      () =>
        Test.createTestingModule({
          imports: [RedlockModule.forRoot({ nodes: ['http://x'] })],
        }).compile(),
      TypeError,
      /RedlockModule.*`nodes\[0\]`/,
    ],
    [
      'forRootAsync: the factory returns no nodes',
      () => compileAsync(() => ({ nodes: [] })),
      TypeError,
      /RedlockModule.*`nodes`/,
    ],
    [
      'forRootAsync: the factory returns a string',
      () => compileAsync(() => 'redis://x'),
      TypeError,
      /RedlockModule/,
    ],
  ];

  it.each(moduleCases)('%s', async (_, call, type, message) => {
    await expectTypedError(call, type, message);
  });

  const decoratorCases: Case[] = [
    [
      '@WithLock: unknown placeholder',
      () => {
        class Orders {
          @WithLock('order:<orderId>')
          async pay(id: string) {
            return id;
          }
        }
        return Orders;
      },
      TypeError,
      /Orders\.pay.*<orderId>.*id/,
    ],
    [
      '@WithLock: empty template',
      () => {
        class Orders {
          @WithLock('')
          async pay(id: string) {
            return id;
          }
        }
        return Orders;
      },
      TypeError,
      /@WithLock/,
    ],
    [
      '@WithLock: retryCount -2',
      () => {
        class Orders {
          @WithLock('order:<id>', { retryCount: -2 })
          async pay(id: string) {
            return id;
          }
        }
        return Orders;
      },
      RangeError,
      /@WithLock.*`options.retryCount`/,
    ],
    [
      '@WithLock: onLocked "ignore"',
      () => {
        class Orders {
          @WithLock('order:<id>', { onLocked: 'ignore' as never })
          async pay(id: string) {
            return id;
          }
        }
        return Orders;
      },
      TypeError,
      /onLocked/,
    ],
    [
      '@LockRoute: unknown request part',
      () => LockRoute('order:<param.id>'),
      TypeError,
      /<param.id>/,
    ],
    [
      '@LockRoute: ttlMs -1',
      () => LockRoute('order:<params.id>', { ttlMs: -1 }),
      RangeError,
      /`ttlMs`/,
    ],
    [
      '@LockRoute: unavailableStatus 500',
      () => LockRoute('a', { unavailableStatus: 500 as never }),
      RangeError,
      /`unavailableStatus` to be 423 or 503, got 500/,
    ],
    [
      'lockMiddleware: unavailableStatus "503"',
      () => lockMiddleware({ redlock, key: 'a', unavailableStatus: '503' as never }),
      RangeError,
      /`unavailableStatus`.*got "503"/,
    ],
    [
      'lockMiddleware: no options',
      () => lockMiddleware(undefined as never),
      TypeError,
      /lockMiddleware/,
    ],
    [
      'lockMiddleware: key a number',
      () => lockMiddleware({ redlock, key: 7 as never }),
      TypeError,
      /lockMiddleware/,
    ],
    [
      'lockMiddleware: waitMs NaN',
      () => lockMiddleware({ redlock, key: 'a', waitMs: NaN }),
      RangeError,
      /`options.waitMs`|`waitMs`/,
    ],
  ];

  it.each(decoratorCases)('%s', async (_, call, type, message) => {
    await expectTypedError(call, type, message);
  });

  @Injectable()
  class Ledger {
    @WithLock('ledger:<account.id>', { retryCount: 0 })
    async post(account: { id: unknown }) {
      return account.id;
    }
  }

  @Controller('orders')
  @UseInterceptors(LockInterceptor)
  class OrdersController {
    @Post(':id/items')
    @LockRoute(['order:<params.id>', 'sku:<body.sku>'], { retryCount: 0 })
    add(@Body() body: unknown) {
      return { added: body };
    }
  }

  it.each([
    ['an object', { nested: true }],
    ['an array', [1, 2]],
    ['NaN', Number.NaN],
    ['a key over 1024 bytes', 'x'.repeat(2_000)],
    ['a lone UTF-16 surrogate', 'a\uD800b'],
  ])(
    '@WithLock method called with %s as a key value: InvalidLockKeyError, no lock',
    async (_, id) => {
      const moduleRef = await Test.createTestingModule({
        imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false })],
        providers: [Ledger],
      }).compile();
      try {
        await expect(moduleRef.get(Ledger).post({ id })).rejects.toBeInstanceOf(
          InvalidLockKeyError,
        );
      } finally {
        await moduleRef.close();
      }
    },
  );

  describe('requests through LockInterceptor and lockMiddleware', () => {
    let nest: { close(): Promise<void>; getHttpServer(): Server };
    let app: express.Express;

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false })],
        controllers: [OrdersController],
      }).compile();
      nest = moduleRef.createNestApplication({ logger: false });
      await (nest as unknown as { init(): Promise<void> }).init();
      await moduleRef.get(RedlockService).redlock.health();
      app = express();
      app.use(express.json());
      app.post(
        '/orders/:id/items',
        lockMiddleware({ redlock, key: ['order:<params.id>', 'sku:<body.sku>'], retryCount: 0 }),
        (req, res) => {
          const held = (req as unknown as { lock: { lock: Lock } }).lock.lock;
          res.json({ added: req.body, lock: held.resources });
        },
      );
      // Express's own error handler, as an app would have: the parser's errors carry a status.
      app.use(
        (
          error: Error & { status?: number },
          _req: express.Request,
          res: express.Response,
          _next: unknown,
        ) => {
          void _next;
          res.status(error.status ?? 500).json({ error: error.message });
        },
      );
    });
    afterAll(async () => {
      await nest.close();
    });

    const servers = () =>
      [
        ['LockInterceptor', nest.getHttpServer()],
        ['lockMiddleware', app],
      ] as const;

    it.each([
      ['no body', undefined, 'sku:<body.sku>'],
      ['a body without the key', { other: 1 }, 'sku:<body.sku>'],
      ['the key as an object', { sku: { $gt: '' } }, 'sku:<body.sku>'],
      ['the key as an array', { sku: ['a', 'b'] }, 'sku:<body.sku>'],
      ['the key as null', { sku: null }, 'sku:<body.sku>'],
      ['the key as an empty string', { sku: '' }, 'sku:<body.sku>'],
      ['a key over 1024 bytes', { sku: 'é'.repeat(600) }, 'sku:<body.sku>'],
      // encodeURIComponent throws a URIError on half a character: that was a 500.
      ['a key with a lone surrogate', { sku: 'x\uDC00' }, 'sku:<body.sku>'],
    ])('answers 400 invalid-key to %s, taking no lock', async (_, body, template) => {
      for (const [name, server] of servers()) {
        const before = await lockCommands();
        const response = await request(server)
          .post('/orders/1/items')
          .send(body as object);
        expect({ name, status: response.status }).toEqual({ name, status: 400 });
        expect(response.body).toMatchObject({ statusCode: 400, reason: 'invalid-key' });
        expect(response.body.message).toContain(template.split(':')[0]);
        expect(await lockCommands()).toEqual(before);
      }
    });

    it('answers malformed JSON with 400 from the body parser, and still works after', async () => {
      for (const [, server] of servers()) {
        const broken = await request(server)
          .post('/orders/1/items')
          .set('Content-Type', 'application/json')
          .send('{"sku": ');
        expect(broken.status).toBe(400);
        const fine = await request(server).post('/orders/1/items').send({ sku: 'a:b' });
        expect(fine.status).toBeLessThan(300);
        expect(fine.body.added).toEqual({ sku: 'a:b' });
      }
    });
  });

  it('left no lock on any node (runs last)', async () => {
    await redlock.quit();
    // Every refusal above left nothing, and the requests that went through released.
    const keys = await Promise.all(cluster.servers.map((_, index) => probe.at(index).keys('*')));
    expect(keys).toEqual([[], [], []]);
  });
});
