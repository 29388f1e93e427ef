import { describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { Redlock, ResourceLockedError, type Lock } from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { useRedisNodes } from '../support/test-bed.js';
import { watchTimers } from '../support/timer-watch.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retry settings under which only a release notice can end a wait within a test's time. */
const NOTICE_ONLY = { retryCount: -1, retryDelayMs: 60_000, retryJitterMs: 0 };

/**
 * A waiter's ttl: long enough that its own attempt every half ttl never comes within a test
 * (jest gives up after 30 s), so a broken notice path fails instead of being rescued by it.
 */
const WAITER_TTL_MS = 120_000;

describe('contention: wait queues, hand-off and wake-up (3 nodes)', () => {
  const bed = useRedisNodes(3);
  const make = (options = {}) => bed.make(options);

  /** How many waiters each node has queued for `resource`. */
  const queued = (resource: string) =>
    Promise.all(
      bed.cluster.servers.map((_, index) =>
        bed.probe.at(index).zcard(`${resource}:redlock:waiters`),
      ),
    );
  const untilQueued = (resource: string, count: number) =>
    eventually(async () => expect(await queued(resource)).toEqual([count, count, count]));

  /** How many subscribed channels each node has whose names match `pattern` (a glob). */
  const subscribed = (pattern: string) =>
    Promise.all(
      bed.cluster.servers.map(async (_, index) => {
        const channels = (await bed.probe.at(index).pubsub('CHANNELS', pattern)) as string[];
        return channels.length;
      }),
    );
  /** The channels on which a resource's hand-offs are told, one per waiting instance. */
  const handOffChannels = (resource: string) => `${resource}:redlock:released:*`;
  /** Waits until every node has one subscribed channel matching `pattern`. */
  const untilSubscribed = (pattern: string) =>
    eventually(async () => expect(await subscribed(pattern)).toEqual([1, 1, 1]));
  /** Waits until every node holds `key` with `value` (a quorum decides; the last node follows). */
  const untilHeldEverywhere = (key: string, value: string) =>
    eventually(async () => expect(await bed.probe.values(key)).toEqual([value, value, value]));
  /**
   * The scripts each node has run since `before`, once every node has run one more (a quorum
   * decides, and the last node's script may still be on its way).
   */
  const scriptsSince = (before: number[]) =>
    eventually(async () => {
      const calls = await bed.probe.calls('evalsha');
      const since = calls.map((count, index) => count - before[index]);
      expect(Math.min(...since)).toBeGreaterThan(0);
      return since;
    });

  it('hands the key to the waiter on release: it holds the lock with no further attempt', async () => {
    const holder = await make().acquire('c:1', 10_000);
    await untilHeldEverywhere('c:1', holder.value);
    const waiting = make(NOTICE_ONLY).acquire('c:1', WAITER_TTL_MS);
    await untilQueued('c:1', 1);
    await untilSubscribed(handOffChannels('c:1'));
    await sleep(20); // the subscription's own look-again attempt
    const before = await bed.probe.calls('evalsha');

    await holder.release();
    const lock = await waiting;
    // The release only (one script per node): the waiter sent nothing after it.
    expect(await scriptsSince(before)).toEqual([1, 1, 1]);
    expect(lock.validityMs).toBeGreaterThan(4_000);
    expect(await bed.probe.values('c:1')).toEqual([lock.value, lock.value, lock.value]);
    expect(await queued('c:1')).toEqual([0, 0, 0]);
    const ttls = await bed.probe.ttls('c:1');
    for (const ttl of ttls) expect(ttl).toBeGreaterThan(4_000);
  });

  it('hands over under a client key prefix too (the channel carries the prefix)', async () => {
    const prefixed = (options = {}) =>
      new Redlock(
        bed.cluster.servers.map((server) => ({
          host: '127.0.0.1',
          port: server.port,
          keyPrefix: 'app:',
        })),
        options,
      );
    const holderClient = prefixed();
    const waiterClient = prefixed(NOTICE_ONLY);
    try {
      const holder = await holderClient.acquire('c:10', 10_000);
      // A quorum decided: let the third grant land, or the waiter may be granted there and
      // not queue on that node.
      await untilHeldEverywhere('app:c:10', holder.value);
      const waiting = waiterClient.acquire('c:10', WAITER_TTL_MS);
      await untilQueued('app:c:10', 1);
      await untilSubscribed(handOffChannels('app:c:10'));
      await holder.release();
      const lock = await waiting;
      await untilHeldEverywhere('app:c:10', lock.value);
    } finally {
      await Promise.all([holderClient.quit(), waiterClient.quit()]);
    }
  });

  it("tells a hand-off to the waiter's instance only, on a channel of its own", async () => {
    const heard: [string, string][] = [];
    const listener = new Redis(bed.cluster.servers[0].port, '127.0.0.1');
    try {
      listener.on('pmessage', (_pattern, channel: string, message: string) =>
        heard.push([channel, message]),
      );
      await listener.psubscribe('c:13:redlock:released*');
      const holder = await make().acquire('c:13', 10_000);
      await untilHeldEverywhere('c:13', holder.value);
      await eventually(async () =>
        expect(await bed.probe.values('c:13')).toEqual(Array(3).fill(holder.value)),
      );
      const first = make(NOTICE_ONLY).acquire('c:13', WAITER_TTL_MS);
      await untilQueued('c:13', 1);
      await sleep(3); // a later millisecond: the queue orders by when each began to wait
      const second = make(NOTICE_ONLY).acquire('c:13', WAITER_TTL_MS);
      await untilQueued('c:13', 2);
      await eventually(async () =>
        expect(await subscribed(handOffChannels('c:13'))).toEqual([2, 2, 2]),
      );

      await holder.release();
      const firstLock = await first;
      await firstLock.release();
      const secondLock = await second;
      await secondLock.release();
      await eventually(() => expect(heard).toHaveLength(2));
      // The last release found nobody in line: it publishes nothing.
      await sleep(100);
      const [[toFirst], [toSecond]] = heard;
      expect(heard).toEqual([
        [toFirst, firstLock.value],
        [toSecond, secondLock.value],
      ]);
      expect(toFirst).toMatch(/^c:13:redlock:released:./);
      expect(toSecond).toMatch(/^c:13:redlock:released:./);
      expect(toFirst).not.toBe(toSecond);
    } finally {
      await listener.quit();
    }
  });

  it('serves waiters in the order they came, and a releasing client queues behind them', async () => {
    const holderClient = make(NOTICE_ONLY);
    const first = await holderClient.acquire('c:2', 10_000);
    const order: string[] = [];
    const waiters: Promise<void>[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      waiters.push(
        make(NOTICE_ONLY)
          .acquire('c:2', WAITER_TTL_MS)
          .then(async (lock) => {
            order.push(name);
            await sleep(5);
            await lock.release();
          }),
      );
      await untilQueued('c:2', waiters.length);
      await sleep(3); // a later millisecond: the queue orders by when each began to wait
    }
    await first.release();
    const again = await holderClient.acquire('c:2', WAITER_TTL_MS);
    order.push('holder again');
    await again.release();
    await Promise.all(waiters);
    expect(order).toEqual(['a', 'b', 'c', 'd', 'holder again']);
  });

  it.each([
    { skew: 'ahead', skewMs: 10_000, fencing: false },
    { skew: 'behind', skewMs: -10_000, fencing: false },
    { skew: 'ahead', skewMs: 10_000, fencing: true },
    { skew: 'behind', skewMs: -10_000, fencing: true },
  ])(
    "keeps a waiter's place when its client's clock runs 10 s $skew (fencing: $fencing)",
    async ({ skewMs, fencing }) => {
      // Once with clients that have seen the nodes' clocks (a refused attempt answers them),
      // once with fresh ones.
      for (const seenClocks of [false, true]) {
        const resource = `c:skew:${skewMs}:${fencing}:${seenClocks}`;
        const holder = await make().acquire(resource, 10_000);
        await untilHeldEverywhere(resource, holder.value);
        const early = make({ ...NOTICE_ONLY, fencing });
        const late = make({ ...NOTICE_ONLY, fencing });
        if (seenClocks) {
          for (const client of [early, late]) {
            await expect(client.acquire(resource, 1_000, { retryCount: 0 })).rejects.toThrow(
              ResourceLockedError,
            );
          }
        }
        // The client ahead comes first: ordered by its own clock, it would go behind everyone
        // who comes in the next 10 s. The one behind comes second: it would jump the queue.
        const skewed = skewMs > 0 ? early : late;
        const realNow = Date.now;
        const order: string[] = [];
        const waiting: Promise<void>[] = [];
        for (const [name, client] of [
          ['early', early],
          ['late', late],
        ] as const) {
          if (client === skewed) Date.now = () => realNow() + skewMs;
          try {
            waiting.push(
              client.acquire(resource, WAITER_TTL_MS).then(async (lock) => {
                order.push(name);
                await lock.release();
              }),
            );
            await untilQueued(resource, waiting.length);
          } finally {
            Date.now = realNow;
          }
          // Well apart: a client reads the nodes' clocks from its replies, which an event
          // loop busy with a new client's connections can hold up by some milliseconds.
          await sleep(100);
        }
        await holder.release();
        await Promise.all(waiting);
        expect(order).toEqual(['early', 'late']);
      }
    },
  );

  it('resolves a split at once: a partial grant is dropped and handed back to the first in line', async () => {
    const holder = await make().acquire('c:11', 10_000);
    await untilHeldEverywhere('c:11', holder.value);
    // The acquire is decided by a quorum: let the third grant land before taking node 0 away.
    await eventually(async () =>
      expect(await bed.probe.values('c:11')).toEqual([holder.value, holder.value, holder.value]),
    );
    await bed.probe.at(0).del('c:11'); // the holder now has nodes 1 and 2 only
    const waiting = make(NOTICE_ONLY).acquire('c:11', WAITER_TTL_MS);
    // The waiter's attempts win node 0 and lose 1 and 2: each drops node 0 and queues under a
    // new value, and node 0, free, goes straight back to it, first in line.
    await untilSubscribed(handOffChannels('c:11'));
    await sleep(20); // the subscription's own look-again attempt
    const [onNode0] = await bed.probe.values('c:11');
    expect(typeof onNode0).toBe('string');
    expect(onNode0).not.toBe(holder.value);
    expect(await queued('c:11')).toEqual([0, 1, 1]);
    const before = await bed.probe.calls('evalsha');

    await holder.release();
    const lock = await waiting;
    // The holder's release only (sent to every node): the waiter sent nothing after it.
    expect(await scriptsSince(before)).toEqual([1, 1, 1]);
    expect(lock.value).toBe(onNode0);
    expect(await bed.probe.values('c:11')).toEqual([lock.value, lock.value, lock.value]);
    expect(await queued('c:11')).toEqual([0, 0, 0]);
  });

  it('leaves the queue when a waiter gives up, and passes on what it was handed', async () => {
    const holder = await make().acquire('c:3', 10_000);
    await untilHeldEverywhere('c:3', holder.value);
    const quitter = new AbortController();
    const giving = make(NOTICE_ONLY).acquire('c:3', WAITER_TTL_MS, { signal: quitter.signal });
    await untilQueued('c:3', 1);
    const next = make(NOTICE_ONLY).acquire('c:3', WAITER_TTL_MS);
    await untilQueued('c:3', 2);

    quitter.abort(new Error('gave up'));
    await expect(giving).rejects.toThrow('gave up');
    expect(await queued('c:3')).toEqual([1, 1, 1]);
    await holder.release();
    const lock = await next;
    await untilHeldEverywhere('c:3', lock.value);
  });

  it('gives up with retries exhausted without leaving an entry behind', async () => {
    await make().acquire('c:4', 10_000);
    const waiter = make({ retryCount: 2, retryDelayMs: 20, retryJitterMs: 0 });
    await expect(waiter.acquire('c:4', 1_000)).rejects.toThrow(/locked/i);
    expect(await queued('c:4')).toEqual([0, 0, 0]);
    // A single attempt (retryCount 0) respects the queue but never joins it.
    await expect(waiter.acquire('c:4', 1_000, { retryCount: 0 })).rejects.toThrow(/locked/i);
    expect(await queued('c:4')).toEqual([0, 0, 0]);
  });

  it('lets a waiter that crashed in the queue hold the others up for no longer than its ttl', async () => {
    const holder = await make().acquire('c:5', 10_000);
    await untilHeldEverywhere('c:5', holder.value);
    // The crashed waiter: its connections vanish while it waits, so it never leaves the queue.
    const connections = bed.cluster.urls.map(
      (url) => new Redis(url, { enableOfflineQueue: false }),
    );
    const doomed = new Redlock(connections, { ...NOTICE_ONLY, retryDelayMs: 50 });
    doomed.on('nodeError', () => undefined);
    const crashed = doomed.acquire('c:5', 400).catch((error: unknown) => error);
    await untilQueued('c:5', 1);
    for (const connection of connections) connection.disconnect();
    const patient = make({ retryCount: -1, retryDelayMs: 50, retryJitterMs: 0 });
    const waiting = patient.acquire('c:5', WAITER_TTL_MS);
    await untilQueued('c:5', 2);

    const releasedAt = performance.now();
    await holder.release();
    // The key goes to the crashed waiter, which never uses it: it lapses after its 400 ms.
    const lock = await waiting;
    const waitedMs = performance.now() - releasedAt;
    expect(waitedMs).toBeGreaterThanOrEqual(350);
    expect(waitedMs).toBeLessThan(400 + 2_000);
    // Granted by its own attempt once the key lapsed: on a quorum at least (on one node the
    // key may have lapsed a moment after that attempt came).
    const holders = (await bed.probe.values('c:5')).filter((value) => value === lock.value);
    expect(holders.length).toBeGreaterThanOrEqual(2);
    await doomed.quit();
    await crashed;
  });

  it('wakes a fenced waiter, which takes the lock itself with a larger token', async () => {
    const holder = await make({ fencing: true }).acquire('c:6', 10_000);
    await untilHeldEverywhere('c:6', holder.value);
    const waiting = make({ ...NOTICE_ONLY, fencing: true }).acquire('c:6', WAITER_TTL_MS);
    await untilQueued('c:6', 1);
    await holder.release();
    const lock = await waiting;
    expect(lock.fencingToken).toBeGreaterThan(holder.fencingToken!);
    // Granted by a quorum, it may still be queued on a node that refused it (the holder's
    // release reached that node after the waiter's attempt): its release clears that too.
    await lock.release();
    await untilQueued('c:6', 0);
  });

  it('queues a waiter for several resources on each, and wakes it when its keys go free', async () => {
    const holder = await make().acquire('c:7a', 10_000);
    await untilHeldEverywhere('c:7a', holder.value);
    const waiting = make(NOTICE_ONLY).acquire(['c:7a', 'c:7b'], WAITER_TTL_MS);
    await untilQueued('c:7a', 1);
    await untilQueued('c:7b', 1);
    await untilSubscribed(handOffChannels('c:7a'));
    await holder.release();
    const lock = await waiting;
    await untilHeldEverywhere('c:7b', lock.value);
    await untilHeldEverywhere('c:7a', lock.value);
    await untilQueued('c:7a', 0);
    await untilQueued('c:7b', 0);
  });

  it('keeps several-resource waiters in line: a key reserved for a waiter ahead is not taken', async () => {
    // A fenced waiter was woken for c:9a (ttl-0 entry, live): the free key is reserved for it.
    const deadline = Date.now() + 60_000;
    await Promise.all(
      [0, 1, 2].map(async (index) => {
        const node = bed.probe.at(index);
        await node.zadd('c:9a:redlock:waiters', 1, '0:someone:value');
        await node.zadd('c:9a:redlock:deadlines', deadline, '0:someone:value');
      }),
    );
    const error = await make({ retryCount: 0 })
      .acquire(['c:9a', 'c:9b'], 5_000)
      .catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('RESOURCE_LOCKED');
    expect(await bed.probe.values('c:9b')).toEqual([null, null, null]);
  });

  it('wakes a fenced waiter for several resources, which gets a larger token', async () => {
    const holder = await make({ fencing: true }).acquire(['c:11a', 'c:11b'], 10_000);
    const waiting = make({ ...NOTICE_ONLY, fencing: true }).acquire(
      ['c:11b', 'c:11a'],
      WAITER_TTL_MS,
    );
    await untilQueued('c:11a', 1);
    await holder.release();
    const lock = await waiting;
    expect(lock.fencingToken).toBeGreaterThan(holder.fencingToken!);
    await lock.release();
  });

  it('never deadlocks: clients taking overlapping sets of resources in any order all finish', async () => {
    const keys = ['c:13a', 'c:13b', 'c:13c'];
    let grants = 0;
    await Promise.all(
      Array.from({ length: 4 }, async (_, client) => {
        const redlock = make({ retryCount: -1, retryDelayMs: 100 });
        for (let round = 0; round < 15; round++) {
          const first = keys[(client + round) % 3];
          const second = keys[(client + 2 * round + 1) % 3];
          const resources = first === second ? [first] : [second, first];
          const lock = await redlock.acquire(resources, 5_000, { waitMs: 10_000 });
          grants++;
          await sleep(2);
          await lock.release();
        }
      }),
    );
    expect(grants).toBe(60);
    for (const key of keys) await untilQueued(key, 0);
  });

  it.each([
    { waiter: 'with fencing', key: 'c:15', resources: ['c:15'], fencing: true },
    {
      waiter: 'for several resources',
      key: 'c:16a',
      resources: ['c:16a', 'c:16b'],
      fencing: false,
    },
  ])(
    'keeps a key handed to a waiter $waiter from a newcomer right behind the release',
    async ({ key, resources, fencing }) => {
      const client = make();
      const holder = await client.acquire(key, 10_000);
      const waiting = make({ ...NOTICE_ONLY, fencing }).acquire(resources, WAITER_TTL_MS);
      await untilQueued(key, 1);
      // Sent on the same connections right behind the release: on every node, the newcomer's
      // SET NX comes before the woken waiter's own attempt can.
      const released = holder.release();
      const newcomer = client.acquire(key, 10_000, { retryCount: 0 });
      await released;
      await expect(newcomer).rejects.toMatchObject({ code: 'RESOURCE_LOCKED' });
      const lock = await waiting;
      await lock.release();
    },
  );

  it('passes a key handed to a waiter for several resources on to a waiter now ahead of it', async () => {
    // Kept regardless, two such waiters could each keep a key the other waits for.
    const holderA = await make().acquire('c:17a', 10_000);
    const holderB = await make().acquire('c:17b', 10_000);
    const waiting = make({ retryCount: -1, retryDelayMs: 50, retryJitterMs: 0 }).acquire(
      ['c:17a', 'c:17b'],
      WAITER_TTL_MS,
    );
    await untilQueued('c:17a', 1);
    await holderA.release();
    // c:17a is handed to the waiter, which still waits for c:17b.
    const handed = await eventually(async () => {
      const values = await bed.probe.values('c:17a');
      expect(new Set(values).size).toBe(1);
      expect(values[0]).toEqual(expect.any(String));
      return values[0];
    });
    // A waiter that began earlier shows up in c:17a's queue (its first attempt was late here),
    // entered at once (an entry without its deadline counts as lapsed).
    const earlier = '60000:inbox0:value0';
    await Promise.all(
      [0, 1, 2].map((index) =>
        bed.probe
          .at(index)
          .multi()
          .zadd('c:17a:redlock:deadlines', Date.now() + 60_000, earlier)
          .zadd('c:17a:redlock:waiters', 1, earlier)
          .exec(),
      ),
    );
    // The waiter's next attempt, refused for c:17b, passes c:17a on.
    await eventually(async () =>
      expect(await bed.probe.values('c:17a')).toEqual(['value0', 'value0', 'value0']),
    );
    expect(handed).not.toBe('value0');
    await Promise.all([0, 1, 2].map((index) => bed.probe.at(index).del('c:17a')));
    await holderB.release();
    const lock = await waiting;
    await lock.release();
  });

  // Churning clients take the key with a plain SET NX PX first, which skips the queue: a key
  // left free for a waiter that takes the lock itself would go to them instead, again and again.
  it.each([
    { waiter: 'for several resources', resources: ['c:10a', 'c:10b'], fencing: false },
    { waiter: 'with fencing', resources: ['c:10a'], fencing: true },
  ])(
    'serves a waiter $waiter under steady contention on its key',
    async ({ resources, fencing }) => {
      const stop = performance.now() + 2_500;
      // Three clients take c:10a in turn, back to back: the key is always handed on, never free.
      const churn = Array.from({ length: 3 }, async () => {
        const client = make({ retryCount: -1, retryDelayMs: 50 });
        while (performance.now() < stop) {
          const lock = await client.acquire('c:10a', 5_000);
          await sleep(10);
          await lock.release();
        }
      });
      await sleep(300);
      const startedAt = performance.now();
      const lock = await make({ retryCount: -1, retryDelayMs: 50, fencing }).acquire(
        resources,
        5_000,
        { waitMs: 2_000 },
      );
      const waitedMs = performance.now() - startedAt;
      await lock.release();
      await Promise.all(churn);
      // In line behind at most the three churning clients.
      expect(waitedMs).toBeLessThan(1_000);
    },
  );

  it('falls back to the retry delay when notices are lost', async () => {
    const holder = await make().acquire('c:8', 10_000);
    await untilHeldEverywhere('c:8', holder.value);
    const waiter = make({ retryCount: -1, retryDelayMs: 200, retryJitterMs: 0 });
    const waiting = waiter.acquire('c:8', WAITER_TTL_MS);
    await untilQueued('c:8', 1);
    await untilSubscribed(handOffChannels('c:8'));
    // Cut the waiter's subscriber connections: the hand-off notices go nowhere.
    const killed = await Promise.all(
      bed.cluster.servers.map((_, index) => bed.probe.at(index).client('KILL', 'TYPE', 'pubsub')),
    );
    expect(killed).toEqual([1, 1, 1]);
    await holder.release();
    const lock: Lock = await waiting;
    expect(lock.attempts).toBeGreaterThanOrEqual(2);
    await untilHeldEverywhere('c:8', lock.value);
  });

  it('unsubscribes a channel about a second after its last waiter is done', async () => {
    const holder = await make().acquire('c:12', 10_000);
    await untilHeldEverywhere('c:12', holder.value);
    const waiting = make(NOTICE_ONLY).acquire('c:12', WAITER_TTL_MS);
    await untilSubscribed(handOffChannels('c:12'));
    await holder.release();
    await (await waiting).release();
    const channels = handOffChannels('c:12');
    expect(await subscribed(channels)).toEqual([1, 1, 1]); // lingers, for the next waiter
    await eventually(async () => expect(await subscribed(channels)).toEqual([0, 0, 0]), 4_000);
  });

  it('leaves no key behind once everyone is done, and no timer after quit()', async () => {
    const timers = watchTimers();
    try {
      const clients = Array.from({ length: 6 }, () =>
        make({ retryCount: -1, retryDelayMs: 10, retryJitterMs: 10 }),
      );
      let inside = 0;
      let overlaps = 0;
      await Promise.all(
        clients.map(async (client) => {
          for (let round = 0; round < 10; round++) {
            const lock = await client.acquire('c:9', 2_000);
            if (++inside > 1) overlaps++;
            await sleep(1);
            inside--;
            await lock.release();
          }
        }),
      );
      expect(overlaps).toBe(0);
      for (let index = 0; index < 3; index++) {
        expect(await bed.probe.at(index).keys('*')).toEqual([]);
      }
      await Promise.all(clients.map((client) => client.quit()));
      expect(await timers.settled()).toEqual([]);
    } finally {
      timers.stop();
    }
  });
});
