import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  Injectable,
  Logger,
  Module,
  Param,
  type INestApplicationContext,
} from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  InvalidLockKeyError,
  RedlockModule,
  RedlockService,
  ResourceLockedError,
  WithLock,
} from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { RedisCluster } from '../support/redis-nodes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Injectable()
class OrdersService {
  balance = 0;
  seen: string[] = [];

  constructor(readonly redlock: RedlockService) {}

  /** A read-sleep-write: loses updates unless calls on one order are serialised. */
  @WithLock('order:<id>', { retryCount: -1, retryDelayMs: 5, retryJitterMs: 5 })
  async credit(id: string, amount: number): Promise<number> {
    void id;
    const before = this.balance;
    await sleep(3);
    this.balance = before + amount;
    return this.balance;
  }

  @WithLock('cart:<dto.customer.id>:<1>')
  async checkout(dto: { customer: { id: unknown } }, step: string): Promise<string | undefined> {
    void [dto, step];
    return this.redlock.current()?.lock.resources.join(',');
  }

  @WithLock(['pair:<a>:<b>'])
  async pair(a: string, b: string): Promise<string | undefined> {
    void [a, b];
    return this.redlock.current()?.lock.resources[0];
  }

  @WithLock((from: string, to: string) => [`stock:${from}`, `stock:${to}`])
  async move(from: string, to: string): Promise<readonly string[] | undefined> {
    void [from, to];
    return this.redlock.current()?.lock.resources;
  }

  @WithLock('order:<id>')
  async outer(id: string): Promise<string> {
    const outerValue = this.redlock.current()!.lock.value;
    const inner = await this.inner(id);
    this.seen.push(`inner ran with ${inner === outerValue ? 'the outer lock' : 'another lock'}`);
    return outerValue;
  }

  @WithLock('order:<id>', { retryCount: 0 })
  async inner(id: string): Promise<string> {
    void id;
    return this.redlock.current()!.lock.value;
  }

  @WithLock('order:<id>', { retryCount: 0, onLocked: 'skip' })
  async tryOnce(id: string): Promise<string> {
    return `ran ${id}`;
  }

  @WithLock('ledger:<id>', { fencing: true, retryCount: -1, retryDelayMs: 5 })
  async fenced(id: string): Promise<bigint | undefined> {
    void id;
    return this.redlock.current()?.lock.fencingToken;
  }

  @WithLock('order:<id>')
  async fail(id: string): Promise<never> {
    throw new RangeError(`bad order ${id}`);
  }
}

@Controller('orders')
class OrdersController {
  constructor(private readonly redlock: RedlockService) {}

  @Get(':id')
  @WithLock('order:<id>')
  async show(@Param('id') id: string) {
    return { id, lockedAs: this.redlock.current()?.lock.resources[0] };
  }
}

describe('@WithLock and RedlockModule on 3 real nodes', () => {
  let cluster: RedisCluster;
  let probe: NodeProbe;
  const apps: INestApplicationContext[] = [];

  const boot = async (moduleImports: unknown[]) => {
    const moduleRef = await Test.createTestingModule({
      imports: moduleImports as never[],
      providers: [OrdersService],
      controllers: [OrdersController],
    }).compile();
    const app = await moduleRef.init();
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await probe.flush();
  });
  afterAll(async () => {
    await probe.quit();
    await cluster.stop();
  });

  it('serialises calls on one order across two applications: no lost update', async () => {
    const first = (await boot([RedlockModule.forRoot({ nodes: cluster.urls })])).get(OrdersService);
    const second = (await boot([RedlockModule.forRoot({ nodes: cluster.urls })])).get(
      OrdersService,
    );
    // Two instances of the service (two apps, as two processes would be) share one balance.
    const shared = { balance: 0 };
    for (const service of [first, second]) {
      Object.defineProperty(service, 'balance', {
        get: () => shared.balance,
        set: (value: number) => (shared.balance = value),
      });
    }
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? first : second).credit('42', 1)),
    );
    expect(shared.balance).toBe(20);
  });

  it('gives a fencing token with { fencing: true } on the decorator or the module', async () => {
    const service = (await boot([RedlockModule.forRoot({ nodes: cluster.urls })])).get(
      OrdersService,
    );
    const tokens = [];
    for (let i = 0; i < 3; i++) tokens.push(await service.fenced('1'));
    expect(tokens).toEqual([1n, 2n, 3n]);
    await expect(service.inner('2')).resolves.toHaveLength(22);
    expect(service.redlock.current()).toBeUndefined();

    const fencedModule = (
      await boot([RedlockModule.forRoot({ nodes: cluster.urls, fencing: true })])
    ).get(OrdersService).redlock;
    const token = await fencedModule.using('ledger:1', undefined, async (_signal, lock) => {
      return lock.fencingToken;
    });
    expect(token).toBe(4n);
  });

  it('builds keys from named, dotted, positional, several and function keys, with the prefix', async () => {
    const service = (
      await boot([RedlockModule.forRoot({ nodes: cluster.urls, keyPrefix: 'lock:' })])
    ).get(OrdersService);
    await expect(service.checkout({ customer: { id: 7 } }, 'pay')).resolves.toBe('lock:cart:7:pay');
    await expect(service.move('a', 'b')).resolves.toEqual(['lock:stock:a', 'lock:stock:b']);
    await expect(service.credit('9', 5)).resolves.toBe(5);
  });

  it('encodes values so that one cannot forge another key', async () => {
    const service = (await boot([RedlockModule.forRoot({ nodes: cluster.urls })])).get(
      OrdersService,
    );
    const first = await service.pair('1:x', 'y');
    const second = await service.pair('1', 'x:y');
    expect(first).not.toBe(second);
    expect([first, second]).toEqual(['pair:1%3Ax:y', 'pair:1:x%3Ay']);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an object', { id: 1 }],
    ['a function', () => 1],
    ['an empty string', ''],
  ])('rejects %s as a key value with InvalidLockKeyError, taking no lock', async (_, value) => {
    const app = await boot([RedlockModule.forRoot({ nodes: cluster.urls })]);
    const service = app.get(OrdersService);
    await app.get(RedlockService).redlock.health(); // connected and probed
    const before = await probe.lockCommands();
    const error = await service
      .checkout({ customer: { id: value } }, 'pay')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidLockKeyError);
    expect((error as InvalidLockKeyError).placeholder).toBe('<dto.customer.id>');
    expect(await probe.lockCommands()).toEqual(before);
  });

  it('is reentrant within one async context, and the inner call keeps the outer lock', async () => {
    const service = (await boot([RedlockModule.forRoot({ nodes: cluster.urls })])).get(
      OrdersService,
    );
    const value = await service.outer('5');
    expect(service.seen).toEqual(['inner ran with the outer lock']);
    expect(value).toHaveLength(22);
  });

  it('does not share a hold across async contexts', async () => {
    const service = (await boot([RedlockModule.forRoot({ nodes: cluster.urls })])).get(
      OrdersService,
    );
    let finish!: () => void;
    const holding = service.redlock.using(
      'order:6',
      undefined,
      () => new Promise<void>((resolve) => (finish = resolve)),
    );
    await sleep(30);
    // This call does not descend from the holder's context: it must not ride on its lock.
    await expect(service.inner('6')).rejects.toBeInstanceOf(ResourceLockedError);
    finish();
    await holding;
    await expect(service.inner('6')).resolves.toHaveLength(22);
  });

  it('passes results and errors through unchanged, and keeps the method name', async () => {
    const service = (await boot([RedlockModule.forRoot({ nodes: cluster.urls })])).get(
      OrdersService,
    );
    await expect(service.fail('3')).rejects.toThrow(new RangeError('bad order 3'));
    expect(OrdersService.prototype.fail.name).toBe('fail');
    await eventually(async () => expect(await probe.values('order:3')).toEqual([null, null, null]));
  });

  it("skips the call with onLocked: 'skip' when the lock is held", async () => {
    const app = await boot([RedlockModule.forRoot({ nodes: cluster.urls })]);
    const service = app.get(OrdersService);
    const held = await app.get(RedlockService).acquire('order:8', 5_000);
    await expect(service.tryOnce('8')).resolves.toBeUndefined();
    await held.release();
    await expect(service.tryOnce('8')).resolves.toBe('ran 8');
  });

  it('locks a controller route: GET /orders/:id runs under order:<id>', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RedlockModule.forRoot({ nodes: cluster.urls })],
      controllers: [OrdersController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    const response = await request(app.getHttpServer()).get('/orders/17').expect(200);
    expect(response.body).toEqual({ id: '17', lockedAs: 'order:17' });
  });

  it('is reachable from every module with isGlobal, and from forRootAsync useClass', async () => {
    class RedlockConfig {
      createRedlockOptions() {
        return { nodes: cluster.urls, keyPrefix: 'g:' };
      }
    }
    @Module({ providers: [OrdersService], exports: [OrdersService] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedlockModule.forRootAsync({ isGlobal: true, useClass: RedlockConfig }),
        FeatureModule,
      ],
    }).compile();
    const app = await moduleRef.init();
    apps.push(app);
    await expect(app.get(OrdersService).move('x', 'y')).resolves.toEqual([
      'g:stock:x',
      'g:stock:y',
    ]);
  });

  it('warns about an even number of nodes', async () => {
    const warnings: string[] = [];
    const logger = new Logger('test');
    logger.warn = (message: unknown) => void warnings.push(String(message));
    // A fourth, distinct node: another database of the first server.
    await boot([
      RedlockModule.forRoot({ nodes: [...cluster.urls, `${cluster.urls[0]}/1`], logger }),
    ]);
    expect(warnings.join('\n')).toMatch(/4 nodes give no more fault tolerance than 3/);
  });

  it('rejects a key over the engine limit with InvalidLockKeyError', async () => {
    const service = (await boot([RedlockModule.forRoot({ nodes: cluster.urls })])).get(
      OrdersService,
    );
    await expect(service.credit('x'.repeat(1_100), 1)).rejects.toBeInstanceOf(InvalidLockKeyError);
  });

  it('keeps route metadata set by other decorators', () => {
    expect(Reflect.getMetadata(PATH_METADATA, OrdersController.prototype.show)).toBe(':id');
  });

  it('fails at class definition when a template names no parameter', () => {
    const define = () => {
      class Broken {
        @WithLock('order:<orderId>')
        async run(id: string) {
          return id;
        }
      }
      return Broken;
    };
    expect(define).toThrow(TypeError);
    expect(define).toThrow(/Broken\.run.*<orderId>.*its parameters: id/);
  });

  it('works with forRootAsync and a factory over an injected config provider', async () => {
    @Module({ providers: [{ provide: 'NODES', useValue: cluster.urls }], exports: ['NODES'] })
    class ConfigModule {}
    const app = await boot([
      RedlockModule.forRootAsync({
        imports: [ConfigModule],
        inject: ['NODES'],
        useFactory: (nodes: string[]) => ({ nodes, defaultTtlMs: 2_000 }),
      }),
    ]);
    await expect(app.get(OrdersService).credit('11', 2)).resolves.toBe(2);
  });

  it('fails at startup with a message naming the bad option', async () => {
    await expect(boot([RedlockModule.forRoot({ nodes: [] })])).rejects.toThrow(
      /RedlockModule: .*`nodes`/,
    );
    await expect(
      boot([RedlockModule.forRoot({ nodes: cluster.urls, defaultTtlMs: 0 })]),
    ).rejects.toThrow(/`defaultTtlMs`/);
    await expect(boot([RedlockModule.forRoot({ nodes: ['http://x'] })])).rejects.toThrow(
      /nodes\[0\]/,
    );
  });

  it('fails at startup when a class with @WithLock cannot reach RedlockModule', async () => {
    await expect(boot([])).rejects.toThrow(/RedlockService/);
  });

  it('releases the locks still held on app.close()', async () => {
    const app = await boot([RedlockModule.forRoot({ nodes: cluster.urls })]);
    const lock = await app.get(RedlockService).acquire('order:12', 60_000);
    await eventually(async () =>
      expect(await probe.values('order:12')).toEqual(Array(3).fill(lock.value)),
    );
    await app.close();
    expect(await probe.values('order:12')).toEqual([null, null, null]);
  });
});
