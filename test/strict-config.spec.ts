import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  LockRoute,
  Redlock,
  RedlockModule,
  RedlockService,
  WithLock,
  WithSemaphore,
  lockMiddleware,
  type Lock,
} from '../lib/index.js';
import { RedisCluster } from './support/redis-nodes.js';

/**
 * Strict configuration: a mistyped or foreign (node-redlock) option name is a TypeError naming
 * the key and the valid one closest to it, at every entry point, before any connection; a
 * template with a placeholder written another way is rejected when the class is defined; a node
 * listed twice and a client that is not ioredis are rejected at construction.
 */
describe('strict configuration (3 real nodes)', () => {
  let cluster: RedisCluster;
  let redlock: Redlock;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    redlock = new Redlock(cluster.urls, { retryCount: 0 });
  });
  afterAll(async () => {
    await redlock.quit();
    await cluster.stop();
  });

  const expectTypeError = async (call: () => unknown, message: RegExp) => {
    let outcome: unknown;
    try {
      outcome = await call();
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(message);
      return;
    }
    throw new Error(`expected a TypeError matching ${message}, got ${String(outcome)}`);
  };

  describe('unknown option keys, with the nearest valid one', () => {
    const cases: [entry: string, call: () => unknown, message: RegExp][] = [
      [
        'new Redlock: node-redlock retryDelay',
        () => new Redlock(['redis://a'], { retryDelay: 200 } as never),
        /Unknown option `retryDelay` in `options`: node-redlock's `retryDelay` is `retryDelayMs`/,
      ],
      [
        'new Redlock: node-redlock retryJitter',
        () => new Redlock(['redis://a'], { retryJitter: 200 } as never),
        /`retryJitter` is `retryJitterMs`/,
      ],
      [
        'new Redlock: node-redlock automaticExtensionThreshold',
        () => new Redlock(['redis://a'], { automaticExtensionThreshold: 200 } as never),
        /`automaticExtensionThreshold` is `autoExtendThresholdMs`/,
      ],
      [
        'new Redlock: drift',
        () => new Redlock(['redis://a'], { drift: 0.01 } as never),
        /`drift` is `driftFactor`/,
      ],
      [
        'new Redlock: a typo, even set to undefined',
        () => new Redlock(['redis://a'], { nodeTimoutMs: undefined } as never),
        /Unknown option `nodeTimoutMs` in `options`: did you mean `nodeTimeoutMs`\?/,
      ],
      [
        'acquire: ttl',
        () => redlock.acquire('strict:a', 1000, { ttl: 5000 } as never),
        /Unknown option `ttl` in `options`: did you mean/,
      ],
      [
        'acquire: autoExtendThresholdMs belongs to using',
        () => redlock.acquire('strict:a', 1000, { autoExtendThresholdMs: 10 } as never),
        /Unknown option `autoExtendThresholdMs`/,
      ],
      [
        'using: retryDelay',
        () => redlock.using('strict:a', 1000, async () => 1, { retryDelay: 5 } as never),
        /node-redlock's `retryDelay` is `retryDelayMs`/,
      ],
      [
        'extend: node-redlock settings',
        async () => {
          const lock = await redlock.acquire('strict:extend', 1000);
          try {
            return await (redlock.extend as (l: Lock, t: number, s: object) => Promise<Lock>)(
              lock,
              1000,
              { retryCount: 3 },
            );
          } finally {
            await redlock.release(lock);
          }
        },
        /extend\(lock, ttlMs\)` without options/,
      ],
      [
        'RedlockModule.forRoot: retryDelay',
        () => RedlockModule.forRoot({ nodes: cluster.urls, retryDelay: 200 } as never),
        /Unknown option `retryDelay` in `RedlockModule.forRoot\(options\)`: node-redlock's `retryDelay` is `retryDelayMs`/,
      ],
      [
        'RedlockModule.forRoot: ttl means defaultTtlMs',
        () => RedlockModule.forRoot({ nodes: cluster.urls, ttl: 200 } as never),
        /`ttl` is `defaultTtlMs`/,
      ],
      [
        'RedlockModule.forRootAsync: its own options',
        () => RedlockModule.forRootAsync({ useFactroy: () => ({}) } as never),
        /Unknown option `useFactroy` in `RedlockModule.forRootAsync\(options\)`: did you mean `useFactory`\?/,
      ],
      [
        '@WithLock: ttl',
        () => {
          class Orders {
            @WithLock('order:<id>', { ttl: 5000 } as never)
            async charge(id: string) {
              return id;
            }
          }
          return Orders;
        },
        /@WithLock on Orders.charge: Unknown option `ttl` in `options`: node-redlock's `ttl` is `ttlMs`/,
      ],
      [
        '@WithLock: onLocked misspelt',
        () => {
          class Mailer {
            @WithLock('mail:<id>', { onLocked: 'skipp' } as never)
            async send(id: string) {
              return id;
            }
          }
          return Mailer;
        },
        /@WithLock on Mailer.send: Expected `onLocked` to be 'throw' or 'skip', got skipp/,
      ],
      [
        '@WithSemaphore: onLocked misspelt',
        () => {
          class Exports {
            @WithSemaphore('exports:<tenant>', { limit: 3, onLocked: 'Skip' } as never)
            async run(tenant: string) {
              return tenant;
            }
          }
          return Exports;
        },
        /@WithSemaphore on Exports.run: Expected `onLocked` to be 'throw' or 'skip', got Skip/,
      ],
      [
        '@LockRoute: waitMS',
        () => LockRoute('order:<params.id>', { waitMS: 0 } as never),
        /@LockRoute: Unknown option `waitMS` in `options`: did you mean `waitMs`\?/,
      ],
      [
        'lockMiddleware: ttl',
        () => lockMiddleware({ redlock, key: 'order:<params.id>', ttl: 5000 } as never),
        /lockMiddleware: Unknown option `ttl` in `options`: node-redlock's `ttl` is `ttlMs`/,
      ],
      [
        'lockMiddleware: retryCont',
        () => lockMiddleware({ redlock, key: 'k', retryCont: 1 } as never),
        /did you mean `retryCount`\?/,
      ],
    ];
    it.each(cases)('%s', async (_entry, call, message) => expectTypeError(call, message));

    it('rejects what a forRootAsync factory returns, at app init', async () => {
      const app = Test.createTestingModule({
        imports: [
          RedlockModule.forRootAsync({
            useFactory: () => ({ nodes: cluster.urls, retryDelay: 200, logger: false }) as never,
          }),
        ],
      }).compile();
      await expect(app).rejects.toThrow(
        /RedlockModule: Unknown option `retryDelay` in `the RedlockModule options`: node-redlock's `retryDelay` is `retryDelayMs`/,
      );
    });

    it('still accepts every documented option', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          RedlockModule.forRootAsync({
            useFactory: () => ({
              nodes: cluster.urls,
              retryCount: 1,
              retryDelayMs: 10,
              retryJitterMs: 0,
              waitMs: 1000,
              driftFactor: 0.01,
              nodeTimeoutMs: 200,
              quorum: 2,
              autoExtendThresholdMs: 100,
              fencing: false,
              restartDelayMs: 0,
              evictingNodes: 'warn',
              unavailableStatus: 503,
              defaultTtlMs: 1000,
              keyPrefix: 'strict:',
              logger: false,
            }),
          }),
        ],
      }).compile();
      const service = moduleRef.get(RedlockService);
      await expect(service.using('ok', undefined, async () => 'ran')).resolves.toBe('ran');
      await moduleRef.close();
    });
  });

  describe('templates with a forgotten placeholder fail when the class is defined', () => {
    const define = (template: string) => () => {
      @Injectable()
      class Orders {
        @WithLock(template)
        async charge(id: string, dto: { customer: string }) {
          return [id, dto];
        }
      }
      return Orders;
    };

    it("rejects '${id}' in single quotes", () =>
      expectTypeError(define('order:${id}'), /contains \$\{id\}.*Write the placeholder as <id>/));

    it("rejects '{id}' naming a parameter, with the hash-tag form as the fix", () =>
      expectTypeError(
        define('order:{dto.customer}'),
        /contains \{dto.customer\}, which is literal text.*<dto.customer> \(or \{<dto.customer>\}/,
      ));

    it('rejects {params.id} in a request template', () =>
      expectTypeError(
        () => LockRoute('order:{params.id}'),
        /contains \{params.id\}, which is literal text/,
      ));

    it('keeps hash tags that name no parameter, and hash tags around placeholders', () => {
      expect(define('{orders}:<id>')).not.toThrow();
      expect(define('{order:<id>}')).not.toThrow();
      expect(() => LockRoute('{tenant}:<params.id>')).not.toThrow();
    });
  });

  describe('nodes', () => {
    it('rejects the same node listed twice, in any spelling', async () => {
      const port = cluster.servers[0].port;
      await expectTypeError(
        () =>
          new Redlock([
            `redis://127.0.0.1:${port}`,
            cluster.urls[1],
            `redis://localhost:${port}/0`,
          ]),
        /`nodes\[0\]` and `nodes\[2\]` are both 127.0.0.1:\d+ \(db 0\).*votes twice/,
      );
      await expectTypeError(
        () => new Redlock([{ host: 'LOCALHOST', port }, cluster.urls[1], cluster.urls[0]]),
        /`nodes\[0\]` and `nodes\[2\]`/,
      );
      const client = new Redis(cluster.urls[2], { lazyConnect: true });
      await expectTypeError(
        () => new Redlock([cluster.urls[0], cluster.urls[2], client]),
        /`nodes\[1\]` and `nodes\[2\]`/,
      );
      client.disconnect();
    });

    it('accepts two databases of one server (they are not independent, but distinct)', async () => {
      const instance = new Redlock([
        `${cluster.urls[0]}/1`,
        `${cluster.urls[0]}/2`,
        cluster.urls[1],
      ]);
      await instance.quit();
    });

    it('rejects a client that only looks like ioredis, naming the supported ones', async () => {
      class RedisClient {
        evalsha() {}
        duplicate() {}
        isOpen = false;
      }
      class RedisMock {
        status = 'ready';
        evalsha() {}
        duplicate() {}
      }
      for (const lookalike of [new RedisClient(), new RedisMock()]) {
        await expectTypeError(
          () => new Redlock([cluster.urls[0], cluster.urls[1], lookalike as never]),
          /`nodes\[2\]` to be a redis:\/\/ URL, ioredis options or an ioredis Redis or Cluster instance, got an instance of Redis(Client|Mock)/,
        );
      }
    });
  });
});
