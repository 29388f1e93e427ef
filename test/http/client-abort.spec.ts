import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  Param,
  Post,
  Query,
  UseInterceptors,
  type INestApplication,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import express from 'express';
import { timeout } from 'rxjs';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  LockInterceptor,
  LockRoute,
  Redlock,
  RedlockModule,
  RedlockService,
  WithLock,
  lockMiddleware,
  type RequestLock,
} from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { RedisCluster } from '../support/redis-nodes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TTL_MS = 1_000;

/**
 * What the handlers under test report: who is inside the critical section, the signals they
 * were given, and gates the test opens to let each one finish.
 */
class Section {
  inside = 0;
  maxInside = 0;
  readonly entered: string[] = [];
  readonly signals = new Map<string, AbortSignal>();
  private readonly gates = new Map<string, () => void>();
  private readonly waits = new Map<string, Promise<void>>();

  /** Called by a handler: enters, waits for its gate, leaves. */
  async run(tag: string, signal: AbortSignal | undefined): Promise<void> {
    this.entered.push(tag);
    if (signal) this.signals.set(tag, signal);
    this.inside++;
    this.maxInside = Math.max(this.maxInside, this.inside);
    await this.gate(tag);
    this.inside--;
  }

  /** Lets the handler tagged `tag` finish. */
  open(tag: string): void {
    this.gate(tag);
    this.gates.get(tag)!();
  }

  /** Resolves once the handler tagged `tag` has entered. */
  entry(tag: string): Promise<void> {
    return eventually(() => expect(this.entered).toContain(tag), 5_000).then(() => undefined);
  }

  reset(): void {
    for (const tag of this.gates.keys()) this.open(tag);
    this.inside = 0;
    this.maxInside = 0;
    this.entered.length = 0;
    this.signals.clear();
    this.gates.clear();
    this.waits.clear();
  }

  private gate(tag: string): Promise<void> {
    let wait = this.waits.get(tag);
    if (!wait) {
      wait = new Promise((resolve) => this.gates.set(tag, resolve));
      this.waits.set(tag, wait);
    }
    return wait;
  }
}

/** A POST the test can hang up on; resolves to its status, or `undefined` once aborted. */
function post(port: number, path: string) {
  let aborted = false;
  const sent = httpRequest({ port, host: '127.0.0.1', method: 'POST', path });
  const status = new Promise<number | undefined>((resolve) => {
    sent.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
    });
    sent.on('error', () => resolve(undefined));
    sent.on('close', () => aborted && resolve(undefined));
  });
  sent.end();
  return {
    status,
    hangUp: () => {
      aborted = true;
      sent.destroy();
    },
  };
}

/**
 * The scenarios every HTTP layer must pass: a client that hangs up never lets a second handler
 * into the section beside the first.
 */
function clientAbortScenarios(
  name: string,
  setup: {
    port: () => number;
    section: Section;
    probe: () => NodeProbe;
    /** Whether the layer can see the handler settle (Nest) or only the response end (Express). */
    seesHandlerSettle: boolean;
  },
) {
  const { section } = setup;
  const holderValues = async (key: string) =>
    (await setup.probe().values(key)).filter((value) => value !== null);

  describe(name, () => {
    afterEach(() => section.reset());

    it('holds the lock past a client abort until the handler ends, and tells the handler', async () => {
      const first = post(setup.port(), '/orders/1/pay?tag=first');
      await section.entry('first');
      const held = await holderValues('order:1');
      expect(held).toHaveLength(3);
      first.hangUp();
      await eventually(() => expect(section.signals.get('first')?.aborted).toBe(true));
      const reason = section.signals.get('first')!.reason as { code?: string; name?: string };
      expect(reason.code).toBe('REQUEST_ABORTED');
      expect(reason.name).toBe('RequestAbortedError');

      const second = post(setup.port(), '/orders/1/pay?tag=second');
      await sleep(TTL_MS / 2);
      expect(section.entered).toEqual(['first']);
      expect(await holderValues('order:1')).toEqual(held);

      section.open('first');
      await section.entry('second');
      section.open('second');
      expect(await second.status).toBe(setup.seesHandlerSettle ? 201 : 200);
      expect(section.maxInside).toBe(1);
    });

    it('stops extending an abandoned lock, which lapses within its ttl', async () => {
      const first = post(setup.port(), '/orders/2/pay?tag=first');
      await section.entry('first');
      first.hangUp();
      await eventually(() => expect(section.signals.get('first')?.aborted).toBe(true));
      const abortedAt = performance.now();
      const second = post(setup.port(), '/orders/2/pay?tag=second');
      await section.entry('second');
      const waitedMs = performance.now() - abortedAt;
      // Not released at the abort, and not extended after it either.
      expect(waitedMs).toBeGreaterThan(TTL_MS / 4);
      expect(waitedMs).toBeLessThan(TTL_MS + 1_000);
      section.open('second');
      await second.status;
      section.open('first');
    });

    it('stops a request that waits for the lock when its client hangs up; its handler never runs', async () => {
      const holder = post(setup.port(), '/orders/3/pay?tag=holder');
      await section.entry('holder');
      // Held on every node (a quorum decides; the last node's command may still be on its way,
      // and a waiter that passes it there would hold that node rather than queue on it).
      await eventually(async () =>
        expect((await setup.probe().values('order:3')).every((value) => value)).toBe(true),
      );
      const waiting = post(setup.port(), '/orders/3/pay?tag=waiting');
      // Queued on every node.
      await eventually(async () => {
        const counts = await Promise.all(
          [0, 1, 2].map((index) => setup.probe().at(index).zcard('order:3:redlock:waiters')),
        );
        expect(counts).toEqual([1, 1, 1]);
      });
      waiting.hangUp();
      // It leaves the queues at once, while the holder still holds the lock.
      await eventually(async () => {
        const counts = await Promise.all(
          [0, 1, 2].map((index) => setup.probe().at(index).zcard('order:3:redlock:waiters')),
        );
        expect(counts).toEqual([0, 0, 0]);
      });
      section.open('holder');
      expect(await holder.status).toBe(setup.seesHandlerSettle ? 201 : 200);
      await eventually(async () =>
        expect(await setup.probe().values('order:3')).toEqual([null, null, null]),
      );
      await sleep(200);
      expect(section.entered).toEqual(['holder']);
    });
  });
}

describe('client aborts over HTTP (3 real nodes)', () => {
  let cluster: RedisCluster;
  let probe: NodeProbe;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
  });
  afterEach(async () => {
    await probe.flush();
  });
  afterAll(async () => {
    await probe.quit();
    await cluster.stop();
  });

  describe('Express', () => {
    const section = new Section();
    let redlock: Redlock;
    let server: Server;
    beforeAll(async () => {
      redlock = new Redlock(cluster.urls, { retryDelayMs: 50 });
      const app = express();
      app.post(
        '/orders/:id/pay',
        lockMiddleware({ redlock, key: 'order:<params.id>', ttlMs: TTL_MS, retryCount: -1 }),
        async (req, res) => {
          const held = (req as unknown as { lock: RequestLock }).lock;
          await section.run(String(req.query.tag), held.signal);
          res.json({ paid: req.params.id });
        },
      );
      server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
      await redlock.quit();
    });

    clientAbortScenarios('lockMiddleware', {
      port: () => (server.address() as AddressInfo).port,
      section,
      probe: () => probe,
      seesHandlerSettle: false,
    });
  });

  describe('Nest', () => {
    const section = new Section();
    let app: INestApplication;

    @Injectable()
    class Orders {
      constructor(private readonly redlock: RedlockService) {}

      // Reentrant under the route's lock: runs at once, and must keep the lock held all the same.
      @WithLock('order:<id>')
      async pay(id: string, tag: string) {
        await section.run(tag, this.redlock.current()?.signal);
        return { paid: id };
      }
    }

    @Controller('orders')
    @UseInterceptors(LockInterceptor)
    class OrdersController {
      constructor(private readonly orders: Orders) {}

      @Post(':id/pay')
      @LockRoute('order:<params.id>', { ttlMs: TTL_MS, retryCount: -1 })
      pay(@Param('id') id: string, @Query('tag') tag: string) {
        return this.orders.pay(id, tag);
      }
    }

    /** An outer interceptor that stops waiting for the handler after `?timeoutMs=`. */
    @Injectable()
    class TimeoutInterceptor implements NestInterceptor {
      intercept(context: ExecutionContext, next: CallHandler) {
        const query = context.switchToHttp().getRequest<{ query: { timeoutMs?: string } }>().query;
        return next.handle().pipe(timeout(Number(query.timeoutMs ?? 60_000)));
      }
    }

    @Controller('slow')
    @UseInterceptors(TimeoutInterceptor, LockInterceptor)
    class SlowController {
      constructor(private readonly redlock: RedlockService) {}

      @Post(':id')
      @LockRoute('slow:<params.id>', { ttlMs: TTL_MS, retryCount: -1 })
      async run(@Query('tag') tag: string) {
        await section.run(tag, this.redlock.current()?.signal);
        return { done: tag };
      }
    }

    it('treats an outer timeout like a hang-up: the signal aborts and the lock lapses', async () => {
      const port = (app.getHttpServer() as Server).address() as AddressInfo;
      const first = post(port.port, '/slow/1?tag=first&timeoutMs=200');
      expect(await first.status).toBe(500); // the timeout answered; the handler still runs
      await eventually(() => expect(section.signals.get('first')?.aborted).toBe(true));
      expect((section.signals.get('first')!.reason as { code?: string }).code).toBe(
        'REQUEST_ABORTED',
      );
      const abortedAt = performance.now();
      const second = post(port.port, '/slow/1?tag=second');
      await section.entry('second');
      const waitedMs = performance.now() - abortedAt;
      expect(waitedMs).toBeGreaterThan(TTL_MS / 4); // not released at the timeout
      expect(waitedMs).toBeLessThan(TTL_MS + 1_000); // not extended after it either
      section.open('second');
      section.open('first');
      await second.status;
      section.reset();
    });

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [RedlockModule.forRoot({ nodes: cluster.urls, logger: false, retryDelayMs: 50 })],
        controllers: [OrdersController, SlowController],
        providers: [Orders],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
    });
    afterAll(async () => {
      await app.close();
    });

    clientAbortScenarios('LockInterceptor with @LockRoute, and @WithLock inside it', {
      port: () => (app.getHttpServer().address() as AddressInfo).port,
      section,
      probe: () => probe,
      seesHandlerSettle: true,
    });
  });
});
