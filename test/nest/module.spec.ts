import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Redlock,
  RedlockModule,
  RedlockService,
  WithLock,
  type Lock,
  type RedlockModuleOptions,
  type RedlockOptionsFactory,
} from '../../lib/index.js';
import { RedisCluster } from '../support/redis-nodes.js';

@Injectable()
class Billing {
  readonly charged: string[] = [];

  @WithLock('invoice:<id>', { ttlMs: 2_000 })
  async charge(id: string) {
    this.charged.push(id);
    return `charged ${id}`;
  }
}

/** Injects the engine itself. */
@Injectable()
class Monitor {
  constructor(readonly redlock: Redlock) {}
}

describe('RedlockModule, Nest-native', () => {
  describe('@WithLock with a RedlockService test double (no Redis), as a user writes it', () => {
    it('calls the double’s using() with the rendered key and runs the method', async () => {
      const calls: unknown[][] = [];
      const fakeRedlock = {
        using: async (
          resources: readonly string[],
          ttlMs: number | undefined,
          routine: (signal: AbortSignal, lock: Lock) => Promise<unknown>,
        ) => {
          calls.push([resources, ttlMs]);
          return routine(new AbortController().signal, undefined as never);
        },
      };
      const moduleRef = await Test.createTestingModule({
        providers: [Billing, { provide: RedlockService, useValue: fakeRedlock }],
      }).compile();
      const billing = moduleRef.get(Billing);
      await expect(billing.charge('42')).resolves.toBe('charged 42');
      expect(calls).toEqual([[['invoice:42'], 2_000]]);
      expect(billing.charged).toEqual(['42']);
    });
  });

  describe('on 3 real nodes', () => {
    let cluster: RedisCluster;
    beforeAll(async () => {
      cluster = await RedisCluster.start(3);
    });
    afterAll(async () => {
      await cluster.stop();
    });

    it('provides the engine as `Redlock`, the one RedlockService uses, closed on shutdown', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false })],
        providers: [Monitor],
      }).compile();
      const engine = moduleRef.get(Monitor).redlock;
      expect(engine).toBeInstanceOf(Redlock);
      expect(moduleRef.get(RedlockService).redlock).toBe(engine);
      const lock = await engine.acquire('module:engine', 1_000);
      await engine.release(lock);
      await moduleRef.close();
      await expect(engine.acquire('module:engine', 1_000)).rejects.toMatchObject({
        code: 'REDLOCK_CLOSED',
      });
    });

    it('closes the engine on shutdown even when RedlockService is replaced by a double', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false })],
        providers: [Monitor],
      })
        .overrideProvider(RedlockService)
        .useValue({ using: async () => undefined })
        .compile();
      const engine = moduleRef.get(Monitor).redlock;
      await moduleRef.close();
      await expect(engine.acquire('module:closed', 1_000)).rejects.toMatchObject({
        code: 'REDLOCK_CLOSED',
      });
    });

    it('forRootAsync with useClass and isGlobal: one options shape, visible everywhere', async () => {
      @Injectable()
      class RedlockConfig implements RedlockOptionsFactory {
        createRedlockOptions(): RedlockModuleOptions {
          return { nodes: cluster.urls, keyPrefix: 'cfg:', logger: false };
        }
      }
      @Module({ providers: [Billing], exports: [Billing] })
      class BillingModule {}
      const moduleRef = await Test.createTestingModule({
        imports: [
          RedlockModule.forRootAsync({ useClass: RedlockConfig, isGlobal: true }),
          BillingModule,
        ],
      }).compile();
      const held: string[] = [];
      const service = moduleRef.get(RedlockService);
      await service.using('outer', undefined, async (_signal, lock) => {
        held.push(...lock.resources);
      });
      await expect(moduleRef.get(Billing).charge('7')).resolves.toBe('charged 7');
      expect(held).toEqual(['cfg:outer']);
      await moduleRef.close();
    });
  });
});
