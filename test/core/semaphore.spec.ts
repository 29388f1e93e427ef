import { describe, expect, it } from '@jest/globals';
import {
  isLockError,
  LockKindMismatchError,
  MAX_SEMAPHORE_LIMIT,
  ResourceLockedError,
  type Lock,
} from '../../lib/index.js';
import { SEMAPHORE_ACQUIRE_SCRIPT } from '../../lib/core/scripts/index.js';
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
    // Node 0 granted slot 1; the release finds it there all the same.
    await eventually(async () =>
      expect(await bed.probe.at(0).get('sem:split:redlock:permit:1')).toBe(permit.value),
    );
    await permit.release();
    expect(await bed.probe.at(0).get('sem:split:redlock:permit:1')).toBeNull();
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
});
