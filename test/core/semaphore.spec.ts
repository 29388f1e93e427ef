import { describe, expect, it } from '@jest/globals';
import {
  isLockError,
  LockKindMismatchError,
  MAX_SEMAPHORE_LIMIT,
  ResourceLockedError,
  type Lock,
} from '../../lib/index.js';
import {
  queueKeys,
  SEMAPHORE_ACQUIRE_SCRIPT,
  SEMAPHORE_EXTEND_SCRIPT,
  SEMAPHORE_RELEASE_SCRIPT,
} from '../../lib/core/scripts/index.js';
import { eventually } from '../support/eventually.js';
import { useRedisNodes } from '../support/test-bed.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retry settings under which only a notice can end a wait within a test's time. */
const NOTICE_ONLY = { retryCount: -1, retryDelayMs: 60_000, retryJitterMs: 0 };
/** One attempt, no wait. */
const ONCE = { retryCount: 0 };
/** A ttl whose own attempt every half ttl never comes within a test. */
const LONG_TTL_MS = 120_000;

/** Whether `promise` is still pending after the nodes had time to answer. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  const settled = await Promise.race([promise.then(() => true), sleep(150).then(() => false)]);
  return !settled;
}

/** `promise`, or a rejection after `seconds` (far more than a notice takes). */
function withinSeconds<T>(seconds: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('semaphores (3 nodes)', () => {
  const bed = useRedisNodes(3);
  const make = (options = {}) => bed.make(options);

  /** Every key the nodes hold (the probe's view), per node. */
  const keysOnNodes = () =>
    Promise.all(bed.cluster.servers.map((_, index) => bed.probe.at(index).keys('*')));
  const untilQueued = (key: string, count: number) =>
    eventually(async () => {
      const counts = await Promise.all(
        bed.cluster.servers.map((_, index) => bed.probe.at(index).zcard(`${key}:redlock:waiters`)),
      );
      expect(counts).toEqual([count, count, count]);
    });
  /**
   * Waits until every node holds `permit`'s slot. A quorum decides, and the last node's command
   * may still be on its way: a waiter's attempt that passes it there is granted that slot on that
   * node, and is queued on only two.
   */
  const untilHeldEverywhere = (key: string, permit: Lock) =>
    eventually(async () =>
      expect(await bed.probe.values(`${key}:redlock:permit:${permit.slot}`)).toEqual([
        permit.value,
        permit.value,
        permit.value,
      ]),
    );

  it('grants at most `limit` permits, each its own slot, and leaves nothing behind', async () => {
    const [a, b] = [make(), make()];
    const permits = [
      await a.acquireSemaphore('exports:t1', 3, 10_000, ONCE),
      await b.acquireSemaphore('exports:t1', 3, 10_000, ONCE),
      await a.acquireSemaphore('exports:t1', 3, 10_000, ONCE),
    ];
    expect(permits.map((permit) => permit.mode)).toEqual(['permit', 'permit', 'permit']);
    expect(permits.map((permit) => permit.slot).sort()).toEqual([0, 1, 2]);
    expect(permits[0].fencingToken).toBeUndefined();
    const refused = await b.acquireSemaphore('exports:t1', 3, 10_000, ONCE).catch((e) => e);
    expect(refused).toBeInstanceOf(ResourceLockedError);
    expect(refused.retryAfterMs).toBeGreaterThan(9_000);
    // A released permit's slot is free again.
    expect(await permits[1].release()).toBe(true);
    const again = await b.acquireSemaphore('exports:t1', 3, 10_000, ONCE);
    expect(again.slot).toBe(permits[1].slot);
    for (const permit of [permits[0], permits[2], again]) expect(await permit.release()).toBe(true);
    // The last permit out takes the marker with it.
    await eventually(async () => expect(await keysOnNodes()).toEqual([[], [], []]));
  });

  it('keeps its bound with many clients competing', async () => {
    const clients = Array.from({ length: 6 }, () => make({ retryDelayMs: 5, retryJitterMs: 5 }));
    let holding = 0;
    let most = 0;
    let grants = 0;
    await Promise.all(
      clients.map(async (redlock) => {
        for (let round = 0; round < 8; round++) {
          await redlock.usingSemaphore(
            'partner-api',
            2,
            5_000,
            async () => {
              holding++;
              most = Math.max(most, holding);
              grants++;
              await sleep(3);
              holding--;
            },
            { retryCount: -1 },
          );
        }
      }),
    );
    expect(grants).toBe(48);
    expect(most).toBe(2);
  });

  it('wakes a waiter when a permit is released, without polling', async () => {
    const [holder, waiter] = [make(), make()];
    const held = await holder.acquireSemaphore('sem:wake', 1, LONG_TTL_MS, ONCE);
    await untilHeldEverywhere('sem:wake', held);
    const waiting = waiter.acquireSemaphore('sem:wake', 1, LONG_TTL_MS, NOTICE_ONLY);
    await untilQueued('sem:wake', 1);
    await held.release();
    const permit = await withinSeconds(5, waiting);
    expect(permit.slot).toBe(0);
    expect(permit.attempts).toBeLessThanOrEqual(2);
    await permit.release();
  });

  it('serves waiters in arrival order', async () => {
    const holder = make();
    const held = await Promise.all([
      holder.acquireSemaphore('sem:fifo', 2, LONG_TTL_MS, ONCE),
      holder.acquireSemaphore('sem:fifo', 2, LONG_TTL_MS, ONCE),
    ]);
    for (const permit of held) await untilHeldEverywhere('sem:fifo', permit);
    const order: number[] = [];
    const waiters: Promise<Lock>[] = [];
    for (let index = 0; index < 4; index++) {
      const redlock = make();
      waiters.push(
        redlock.acquireSemaphore('sem:fifo', 2, LONG_TTL_MS, NOTICE_ONLY).then((permit) => {
          order.push(index);
          return permit;
        }),
      );
      await untilQueued('sem:fifo', index + 1);
    }
    // A newcomer does not pass them, even as permits free up.
    await held[0].release();
    const first = await withinSeconds(5, waiters[0]);
    const late = await make()
      .acquireSemaphore('sem:fifo', 2, LONG_TTL_MS, ONCE)
      .catch((e) => e);
    expect(late).toBeInstanceOf(ResourceLockedError);
    // One permit freed at a time: each goes to the next in line.
    await held[1].release();
    const second = await withinSeconds(5, waiters[1]);
    await first.release();
    const third = await withinSeconds(5, waiters[2]);
    expect(await isPending(waiters[3])).toBe(true);
    await second.release();
    const fourth = await withinSeconds(5, waiters[3]);
    expect(order).toEqual([0, 1, 2, 3]);
    await Promise.all([third.release(), fourth.release()]);
  });

  it('extends a permit while a routine runs past its ttl', async () => {
    const [a, b] = [make(), make()];
    const result = await a.usingSemaphore('sem:extend', 1, 300, async (signal, permit) => {
      await sleep(700);
      expect(signal.aborted).toBe(false);
      expect(permit.validityMs).toBeGreaterThan(0);
      // Still held: a second client is refused the only permit.
      await expect(b.acquireSemaphore('sem:extend', 1, 300, ONCE)).rejects.toBeInstanceOf(
        ResourceLockedError,
      );
      return 'done';
    });
    expect(result).toBe('done');
    const next = await b.acquireSemaphore('sem:extend', 1, 300, ONCE);
    await next.release();
  });

  it('refuses a semaphore on a locked key, and a lock on a semaphore, at once', async () => {
    const [a, b] = [make(), make()];
    const mutex = await a.acquire('kind:mutex', 10_000);
    const onMutex = await b
      .acquireSemaphore('kind:mutex', 3, 10_000, { retryCount: -1 })
      .catch((e) => e);
    expect(onMutex).toBeInstanceOf(LockKindMismatchError);
    expect(onMutex).toMatchObject({ wanted: 'semaphore:3', found: 'mutex' });
    expect(isLockError(onMutex, 'LOCK_KIND_MISMATCH')).toBe(true);
    await mutex.release();

    const reader = await a.acquireRead('kind:read', 10_000);
    await expect(b.acquireSemaphore('kind:read', 3, 10_000)).rejects.toMatchObject({
      found: 'read',
    });
    await reader.release();

    const permit = await a.acquireSemaphore('kind:sem', 3, 10_000);
    for (const attempt of [
      () => b.acquire('kind:sem', 10_000, { retryCount: -1 }),
      () => b.acquire('kind:sem', 10_000, { fencing: true, retryCount: -1 }),
      () => b.acquire(['kind:other', 'kind:sem'], 10_000, { retryCount: -1 }),
      () => b.acquireRead('kind:sem', 10_000, { retryCount: -1 }),
    ]) {
      await expect(attempt()).rejects.toMatchObject({
        code: 'LOCK_KIND_MISMATCH',
        found: 'semaphore:3',
      });
    }
    await expect(b.acquireSemaphore('kind:sem', 5, 10_000)).rejects.toMatchObject({
      wanted: 'semaphore:5',
      found: 'semaphore:3',
    });
    await permit.release();
    // Nothing of the refused attempts is left: no queue, no slot, no key of theirs.
    await eventually(async () => expect(await keysOnNodes()).toEqual([[], [], []]));
  });

  it('refuses bad input before sending anything', async () => {
    const redlock = make();
    for (const limit of [0, -1, 1.5, MAX_SEMAPHORE_LIMIT + 1, Number.NaN, '3', undefined]) {
      await expect(redlock.acquireSemaphore('bad', limit as number, 1_000)).rejects.toThrow(
        /`limit` of a semaphore to be a whole number of permits from 1 to 1000/,
      );
      await expect(
        redlock.usingSemaphore('bad', limit as number, 1_000, async () => undefined),
      ).rejects.toThrow(RangeError);
    }
    await expect(redlock.acquireSemaphore(['a'] as unknown as string, 3, 1_000)).rejects.toThrow(
      TypeError,
    );
    await expect(redlock.acquireSemaphore('bad', 3, 1_000, { fencing: true })).rejects.toThrow(
      /no `fencing` for a semaphore/,
    );
    await expect(redlock.acquireSemaphore('bad', 3, 0)).rejects.toThrow(RangeError);
    await expect(
      redlock.acquireSemaphore('bad', 3, 1_000, { retryCont: 1 } as never),
    ).rejects.toThrow(/retryCont/);
    await expect(redlock.usingSemaphore('bad', 3, 1_000, undefined as never)).rejects.toThrow(
      TypeError,
    );
    expect(await keysOnNodes()).toEqual([[], [], []]);
  });

  it('grants the slot a quorum agrees on when nodes differ, and frees the others', async () => {
    // Node 0 has slot 0 taken by a holder the others do not know (a partial grant).
    await bed.probe.at(0).set('sem:split:redlock:permit:0', '^stranger', 'PX', 10_000);
    await bed.probe.at(0).set('sem:split', '!sem:2', 'PX', 10_000);
    const permit = await make().acquireSemaphore('sem:split', 2, 10_000, ONCE);
    expect(permit.slot).toBe(0);
    // Node 0 granted slot 1 too: dropped at once (by a trim sent behind the grant, in the
    // background), not kept for as long as the permit is held.
    await eventually(async () =>
      expect(await bed.probe.at(0).get('sem:split:redlock:permit:1')).toBeNull(),
    );
    expect(await bed.probe.values('sem:split:redlock:permit:0')).toEqual([
      '^stranger',
      permit.value,
      permit.value,
    ]);
    await permit.release();
  });

  it('moves a value to the preferred slot, trading places with a slot only handed out', async () => {
    const node = bed.probe.at(0);
    const run = (value: string, preferred: number | '') =>
      node.evalsha(
        SEMAPHORE_ACQUIRE_SCRIPT.sha,
        3,
        'sem:swap',
        'sem:swap:redlock:waiters',
        'sem:swap:redlock:deadlines',
        value,
        10_000,
        2,
        `10000:inbox:${value}`,
        '',
        '1',
        preferred,
      );
    await node.script('LOAD', SEMAPHORE_ACQUIRE_SCRIPT.source);
    // Releases reached this node in another order than the others: slot 1 was handed to
    // ^w1, slot 0 to ^w2.
    await node.set('sem:swap', '!sem:2', 'PX', 10_000);
    await node.set('sem:swap:redlock:permit:1', '?^w1', 'PX', 10_000);
    await node.set('sem:swap:redlock:permit:0', '?^w2', 'PX', 8_000);
    // ^w1's quorum agreed on slot 0: it takes slot 0, and ^w2 is handed slot 1 instead.
    expect(await run('^w1', 0)).toBe(0);
    expect(await node.get('sem:swap:redlock:permit:0')).toBe('^w1');
    expect(await node.get('sem:swap:redlock:permit:1')).toBe('?^w2');
    // A taken slot never moves: ^w2 asking for slot 0 gets the one handed to it.
    expect(await run('^w2', 0)).toBe(1);
    expect(await node.get('sem:swap:redlock:permit:0')).toBe('^w1');
    expect(await node.get('sem:swap:redlock:permit:1')).toBe('^w2');
  });

  it("keeps a live waiter's turn when every holder lapsed, and a re-sent first attempt leaves no entry", async () => {
    const node = bed.probe.at(0);
    const keys = queueKeys(['sem:lapse']);
    await node.script('LOAD', SEMAPHORE_ACQUIRE_SCRIPT.source);
    const first = (value: string, ttlMs: number) =>
      node.evalsha(
        SEMAPHORE_ACQUIRE_SCRIPT.sha,
        3,
        ...keys,
        value,
        ttlMs,
        1,
        `${ttlMs}:inbox:${value}`,
        '',
        '1',
        '',
      );
    expect(await first('^h', 40)).toBe(0);
    expect(await first('^w', 5_000)).toEqual([expect.any(Number), expect.any(Number)]);
    await sleep(80); // the holder's slot and the marker lapse; ^w's entry is live
    // A newcomer's first attempt finds the key free, but ^w is ahead of it.
    expect(await first('^x', 5_000)).toEqual([expect.any(Number), expect.any(Number)]);
    // ^w's first attempt again (a client that re-sends it): granted, and out of the queue.
    expect(await first('^w', 5_000)).toBe(0);
    expect(await node.zrange(keys[1], 0, -1)).toEqual(['5000:inbox:^x']);
  });

  it('drops the other slots a split grant left, so a newcomer finds the slot still free on a quorum', async () => {
    const slot = (n: number) => `sem:left:redlock:permit:${n}`;
    /** A partial grant of someone else's on one node, lapsing soon. */
    const stranger = async (node: number, n: number) => {
      await bed.probe.at(node).set('sem:left', '!sem:3', 'PX', 300);
      await bed.probe.at(node).set(slot(n), '^stranger', 'PX', 300);
    };
    const holder = make();
    await stranger(0, 0);
    await stranger(2, 0);
    const first = await holder.acquireSemaphore('sem:left', 3, 30_000, ONCE);
    await sleep(400);
    await stranger(0, 0);
    await stranger(1, 1);
    const second = await holder.acquireSemaphore('sem:left', 3, 30_000, ONCE);
    await sleep(400);
    // Each holds its slot on a quorum, and nothing else: no copy on a third node's other slot.
    for (const permit of [first, second]) {
      const copies = await Promise.all(
        [0, 1, 2].map((node) => bed.probe.at(node).mget(slot(0), slot(1), slot(2))),
      );
      const elsewhere = copies.flatMap((values) =>
        values.filter((value, n) => value === permit.value && n !== permit.slot),
      );
      expect(elsewhere).toEqual([]);
    }
    // The third permit is free on every node: a newcomer gets it, in a few round trips.
    const calls = await bed.probe.calls('evalsha');
    const third = await make().acquireSemaphore('sem:left', 3, 10_000, {
      retryCount: -1,
      waitMs: 2_000,
    });
    expect(third.slot).toBe(2);
    const spent = (await bed.probe.calls('evalsha')).map((count, node) => count - calls[node]);
    expect(Math.max(...spent)).toBeLessThanOrEqual(6);
  });

  it('backs off between attempts while nodes keep granting different slots', async () => {
    // Each node has a different slot free (leftovers that no holder will extend away): no
    // slot is free on a quorum until they lapse.
    const layout: [number, string][][] = [
      [
        [1, '^H1'],
        [2, '^H2'],
      ],
      [
        [0, '^H1'],
        [2, '^H2'],
      ],
      [
        [0, '^H2'],
        [1, '^H1'],
      ],
    ];
    for (const [node, slots] of layout.entries()) {
      await bed.probe.at(node).set('sem:spin', '!sem:3', 'PX', 30_000);
      for (const [n, value] of slots) {
        await bed.probe.at(node).set(`sem:spin:redlock:permit:${n}`, value, 'PX', 30_000);
      }
    }
    const redlock = make({ retryDelayMs: 50, retryJitterMs: 0 });
    await redlock.health();
    const calls = await bed.probe.calls('evalsha');
    const refused = await redlock
      .acquireSemaphore('sem:spin', 3, 10_000, { retryCount: -1, waitMs: 500 })
      .catch((error) => error);
    expect(refused).toBeInstanceOf(ResourceLockedError);
    // About 10 attempts of a few scripts each, not thousands.
    const spent = (await bed.probe.calls('evalsha')).map((count, node) => count - calls[node]);
    expect(Math.max(...spent)).toBeLessThan(100);
  });

  it("deletes the key on release only if it holds this semaphore's marker", async () => {
    const permit = await make().acquireSemaphore('sem:guard', 2, 10_000, ONCE);
    // Some fault took the marker and another holder set the key (its ttl, not the slot's).
    for (const node of [0, 1, 2]) await bed.probe.at(node).set('sem:guard', '^other', 'PX', 10_000);
    await permit.release();
    expect(await bed.probe.values('sem:guard')).toEqual(['^other', '^other', '^other']);
    expect(await bed.probe.values(`sem:guard:redlock:permit:${permit.slot}`)).toEqual([
      null,
      null,
      null,
    ]);
  });

  it('drops the marker when the last permit goes, though lapsed waiters are still queued', async () => {
    const redlock = make();
    const held = await redlock.acquireSemaphore('sem:lapsed', 1, 60_000, ONCE);
    const [, waiters, deadlines] = queueKeys(['sem:lapsed']);
    for (const node of [0, 1, 2]) {
      const now = Number((await bed.probe.at(node).time())[0]) * 1000;
      await bed.probe.at(node).zadd(waiters, now, '200:inbox:^crashed');
      await bed.probe.at(node).zadd(deadlines, now + 100, '200:inbox:^crashed');
    }
    await sleep(1_200);
    await held.release();
    await eventually(async () => expect(await keysOnNodes()).toEqual([[], [], []]));
    const mutex = await redlock.acquire('sem:lapsed', 1_000, ONCE);
    await mutex.release();
  });

  it("clears a holder's other copies: extend takes its queue entry and what was handed to it, release every copy", async () => {
    const node = bed.probe.at(0);
    const keys = queueKeys(['sem:copies']);
    await node.script('LOAD', SEMAPHORE_EXTEND_SCRIPT.source);
    await node.script('LOAD', SEMAPHORE_RELEASE_SCRIPT.source);
    // The holder ^v holds slot 0; it was also left queued here, and handed slot 1.
    await node.set('sem:copies', '!sem:3', 'PX', 10_000);
    await node.set('sem:copies:redlock:permit:0', '^v', 'PX', 10_000);
    await node.set('sem:copies:redlock:permit:1', '?^v', 'PX', 10_000);
    await node.zadd(keys[1], 1, '10000:inbox:^v', 2, '10000:inbox:^w');
    await node.zadd(
      keys[2],
      Date.now() + 60_000,
      '10000:inbox:^v',
      Date.now() + 60_000,
      '10000:inbox:^w',
    );
    const extend = (member: string) =>
      node.evalsha(SEMAPHORE_EXTEND_SCRIPT.sha, 3, ...keys, '^v', 10_000, 3, 0, member);
    expect(await extend('10000:inbox:^v')).toBe(1);
    // Its entry is gone, and slot 1 went to the next waiter, ^w.
    expect(await node.zrange(keys[1], 0, -1)).toEqual([]);
    expect(await node.get('sem:copies:redlock:permit:1')).toBe('?^w');
    // Queued again here (a later attempt of its acquisition refused here) and handed slot 2:
    // its release, leaving the queue, deletes every copy of the value, handed ones too.
    await node.zadd(keys[1], 3, '10000:inbox:^v');
    await node.zadd(keys[2], Date.now() + 60_000, '10000:inbox:^v');
    await node.set('sem:copies:redlock:permit:2', '?^v', 'PX', 10_000);
    const release = await node.evalsha(
      SEMAPHORE_RELEASE_SCRIPT.sha,
      3,
      ...keys,
      '^v',
      3,
      0,
      'leave',
      '10000:inbox:^v',
    );
    expect(release).toBe(1);
    expect(await node.mget(...[0, 1, 2].map((n) => `sem:copies:redlock:permit:${n}`))).toEqual([
      null,
      '?^w',
      null,
    ]);
  });
});
