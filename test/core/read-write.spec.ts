import { describe, expect, it } from '@jest/globals';
import { Redlock, ResourceLockedError, type Lock } from '../../lib/index.js';
import { QUEUED_READ_ACQUIRE_SCRIPT } from '../../lib/core/scripts/index.js';
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

describe('read-write locks (3 nodes)', () => {
  const bed = useRedisNodes(3);
  const make = (options = {}) => bed.make(options);

  /** How many live readers each node lists for `resource`. */
  const readers = (resource: string) =>
    Promise.all(
      bed.cluster.servers.map((_, index) =>
        bed.probe.at(index).zcard(`${resource}:redlock:readers`),
      ),
    );
  const untilQueued = (resource: string, count: number) =>
    eventually(async () => {
      const counts = await Promise.all(
        bed.cluster.servers.map((_, index) =>
          bed.probe.at(index).zcard(`${resource}:redlock:waiters`),
        ),
      );
      expect(counts).toEqual([count, count, count]);
    });

  /** Waits until every node holds `key` with `value` (a quorum decides; the last node follows). */
  const untilHeldEverywhere = (key: string, value: string) =>
    eventually(async () => expect(await bed.probe.values(key)).toEqual([value, value, value]));

  it('lets readers share a resource, and says which locks are reads', async () => {
    const [a, b] = [make(), make()];
    const first = await a.acquireRead('doc:share', 10_000, ONCE);
    const second = await b.acquireRead('doc:share', 10_000, ONCE);
    expect(first.mode).toBe('read');
    expect(second.mode).toBe('read');
    expect(first.validityMs).toBeGreaterThan(9_000);
    // A quorum decides; the last node follows.
    await eventually(async () => expect(await readers('doc:share')).toEqual([2, 2, 2]));
    expect(await first.release()).toBe(true);
    expect(await second.release()).toBe(true);
    // The last reader out leaves nothing behind.
    await eventually(async () => {
      expect(await bed.probe.values('doc:share')).toEqual([null, null, null]);
      expect(await readers('doc:share')).toEqual([0, 0, 0]);
    });
    const writer = await a.acquireWrite('doc:share', 10_000, ONCE);
    expect(writer.mode).toBe('write');
    await writer.release();
  });

  it('keeps writers (acquireWrite and acquire alike) out while a reader holds', async () => {
    const [reader, writer] = [make(), make()];
    const lock = await reader.acquireRead('doc:excl', 10_000, ONCE);
    await untilHeldEverywhere('doc:excl', '!readers');
    await expect(writer.acquireWrite('doc:excl', 10_000, ONCE)).rejects.toBeInstanceOf(
      ResourceLockedError,
    );
    await expect(writer.acquire('doc:excl', 10_000, ONCE)).rejects.toBeInstanceOf(
      ResourceLockedError,
    );
    await expect(writer.acquire(['doc:excl', 'doc:other'], 10_000, ONCE)).rejects.toBeInstanceOf(
      ResourceLockedError,
    );
    await expect(
      writer.acquireWrite('doc:excl', 10_000, { ...ONCE, fencing: true }),
    ).rejects.toBeInstanceOf(ResourceLockedError);
    await lock.release();
    const taken = await writer.acquireWrite('doc:excl', 10_000, ONCE);
    await taken.release();
  });

  it('keeps readers out while a writer holds, and lets them in on its release without polling', async () => {
    const [writer, a, b] = [make(), make(), make()];
    // Held long: the readers' fallback attempt (when the writer's ttl runs out) never comes
    // within the test, so only the release and its notices can let them in.
    const held = await writer.acquireWrite('doc:w', LONG_TTL_MS);
    await untilHeldEverywhere('doc:w', held.value);
    await expect(a.acquireRead('doc:w', 10_000, ONCE)).rejects.toBeInstanceOf(ResourceLockedError);
    const first = a.acquireRead('doc:w', LONG_TTL_MS, NOTICE_ONLY);
    const second = b.acquireRead('doc:w', LONG_TTL_MS, NOTICE_ONLY);
    await untilQueued('doc:w', 2);
    expect(await isPending(first)).toBe(true);
    await held.release();
    // Both readers hold at once: the first is handed the key, and lets the other in.
    const [r1, r2] = await withinSeconds(5, Promise.all([first, second]));
    await eventually(async () => expect(await readers('doc:w')).toEqual([2, 2, 2]));
    await Promise.all([r1.release(), r2.release()]);
  });

  it('serves in arrival order: a reader that comes after a waiting writer waits for it', async () => {
    const [r1, w, r2] = [make(), make(), make()];
    const order: string[] = [];
    const firstRead = await r1.acquireRead('doc:fifo', 10_000);
    await untilHeldEverywhere('doc:fifo', '!readers');
    const write = w.acquireWrite('doc:fifo', LONG_TTL_MS, NOTICE_ONLY).then((lock) => {
      order.push('writer');
      return lock;
    });
    await untilQueued('doc:fifo', 1);
    // Readers hold, but a writer waits: a new reader does not go before it.
    await expect(r2.acquireRead('doc:fifo', 10_000, ONCE)).rejects.toBeInstanceOf(
      ResourceLockedError,
    );
    const read = r2.acquireRead('doc:fifo', LONG_TTL_MS, NOTICE_ONLY).then((lock) => {
      order.push('reader');
      return lock;
    });
    await untilQueued('doc:fifo', 2);
    await firstRead.release();
    const writeLock = await write;
    expect(await isPending(read)).toBe(true);
    await writeLock.release();
    await (await read).release();
    expect(order).toEqual(['writer', 'reader']);
  });

  it('gives writers fencing tokens in one sequence with the mutex on the same resource', async () => {
    const redlock = make();
    const mutex = await redlock.acquire('doc:fence', 10_000, { fencing: true });
    await mutex.release();
    const writer = await redlock.acquireWrite('doc:fence', 10_000, { fencing: true });
    expect(writer.fencingToken).toBeGreaterThan(mutex.fencingToken!);
    await writer.release();
    // A reader has no token, even on an instance that fences by default.
    const fencing = make({ fencing: true });
    const reader = await fencing.acquireRead('doc:fence', 10_000);
    expect(reader.fencingToken).toBeUndefined();
    await reader.release();
  });

  it('extends a read lock, and its hold on the resource with it', async () => {
    const [reader, writer] = [make(), make()];
    const lock = await reader.acquireRead('doc:extend', 400);
    await lock.extend(5_000);
    expect(lock.validityMs).toBeGreaterThan(4_000);
    await sleep(600);
    // Past the first ttl, the extended reader still keeps writers out.
    await expect(writer.acquire('doc:extend', 10_000, ONCE)).rejects.toBeInstanceOf(
      ResourceLockedError,
    );
    await lock.release();
    await expect(lock.extend(1_000)).rejects.toMatchObject({ code: 'LOCK_LOST' });
  });

  it('lets a writer in once a crashed reader lapses', async () => {
    const [reader, writer] = [make(), make()];
    await reader.acquireRead('doc:lapse', 300);
    const lock = await writer.acquire('doc:lapse', 10_000, {
      retryCount: -1,
      retryDelayMs: 50,
      waitMs: 5_000,
    });
    expect(lock.mode).toBe('write');
    await lock.release();
  });

  it('runs a routine under a read lock with usingRead, and a write lock with usingWrite', async () => {
    const redlock = make();
    const seen = await redlock.usingRead('doc:using', 5_000, async (signal, lock) => {
      expect(signal.aborted).toBe(false);
      await eventually(async () => expect(await readers('doc:using')).toEqual([1, 1, 1]));
      return lock.mode;
    });
    expect(seen).toBe('read');
    await eventually(async () => expect(await readers('doc:using')).toEqual([0, 0, 0]));
    expect(await redlock.usingWrite('doc:using', 5_000, async (_signal, lock) => lock.mode)).toBe(
      'write',
    );
    await eventually(async () =>
      expect(await bed.probe.values('doc:using')).toEqual([null, null, null]),
    );
  });

  it('leaves the queue and passes the key on when a waiting reader gives up', async () => {
    const [writer, reader, next] = [make(), make(), make()];
    const held = await writer.acquire('doc:leave', 10_000);
    await untilHeldEverywhere('doc:leave', held.value);
    await expect(
      reader.acquireRead('doc:leave', LONG_TTL_MS, { ...NOTICE_ONLY, waitMs: 300 }),
    ).rejects.toBeInstanceOf(ResourceLockedError);
    await untilQueued('doc:leave', 0);
    await held.release();
    const lock = await next.acquire('doc:leave', 10_000, ONCE);
    await lock.release();
  });

  it('lets the readers queued behind a writer in when that writer gives up', async () => {
    const [reader, writer, late] = [make(), make(), make()];
    const holding = await reader.acquireRead('doc:gone', LONG_TTL_MS);
    await untilHeldEverywhere('doc:gone', '!readers');
    const giving = writer.acquire('doc:gone', 10_000, { ...NOTICE_ONLY, waitMs: 400 });
    await untilQueued('doc:gone', 1);
    const waiting = late.acquireRead('doc:gone', LONG_TTL_MS, NOTICE_ONLY);
    await untilQueued('doc:gone', 2);
    await expect(giving).rejects.toBeInstanceOf(ResourceLockedError);
    // Its fallback would come after minutes: only the writer's leaving can let it in.
    const lock = await withinSeconds(5, waiting);
    await Promise.all([lock.release(), holding.release()]);
  });

  it("tells each queued reader once when a writer's release lets them in, not once per reader", async () => {
    const [writer, ...readersOf] = [make(), ...Array.from({ length: 20 }, () => make())];
    const held = await writer.acquire('doc:many', LONG_TTL_MS);
    await untilHeldEverywhere('doc:many', held.value);
    const waiting = readersOf.map((r) => r.acquireRead('doc:many', LONG_TTL_MS, NOTICE_ONLY));
    await untilQueued('doc:many', 20);
    const before = await bed.probe.calls('publish');
    await held.release();
    const locks = await withinSeconds(10, Promise.all(waiting));
    const publishes = (await bed.probe.calls('publish')).map((count, i) => count - before[i]);
    // One hand-off, then one notice for each of the other 19: 20 per node (it was 190+).
    for (const count of publishes) expect(count).toBeLessThanOrEqual(20);
    await Promise.all(locks.map((lock) => lock.release()));
  });

  it('shortens its hold on the resource when the longest reader leaves', async () => {
    const [long, short, writer] = [make(), make(), make()];
    const longLock = await long.acquireRead('doc:short', 30_000);
    await short.acquireRead('doc:short', 300); // never released: it lapses
    await longLock.release();
    // The writer gets in once the short reader lapsed, not after the long one's 30 s.
    const lock = await writer.acquire('doc:short', 10_000, {
      retryCount: -1,
      retryDelayMs: 50,
      waitMs: 3_000,
    });
    await lock.release();
  });

  it('answers false, and says lost, when releasing a read lock that lapsed', async () => {
    const [a, b] = [make(), make()];
    const other = await b.acquireRead('doc:lapsed', 10_000);
    const lapsing = await a.acquireRead('doc:lapsed', 300);
    const lost: unknown[] = [];
    a.on('lost', (lock) => lost.push(lock));
    await sleep(500);
    expect(await lapsing.release()).toBe(false);
    expect(lost).toEqual([lapsing]);
    await other.release();
  });

  it("shares a key that a release handed to a reader's leftover queue entry", async () => {
    const [first, second] = [make(), make()];
    const lock = await first.acquireRead('doc:left', 10_000);
    await untilHeldEverywhere('doc:left', '!readers');
    // As if two nodes had handed the key to an entry the reader left in their queues: the
    // key holds the reader's value there, not the readers' marker.
    for (const index of [1, 2]) {
      await bed.probe.at(index).del('doc:left:redlock:readers');
      await bed.probe.at(index).set('doc:left', lock.value, 'PX', 10_000);
    }
    const shared = await second.acquireRead('doc:left', 10_000, ONCE);
    await untilHeldEverywhere('doc:left', '!readers');
    await eventually(async () => expect(await readers('doc:left')).toEqual([2, 2, 2]));
    await Promise.all([lock.release(), shared.release()]);
  });

  it('keeps a read lock through a rolling restart, re-created by its extensions', async () => {
    const redlock = make({ restartDelayMs: 300 });
    const lock = await redlock.acquireRead('doc:rolling', 10_000);
    for (const server of bed.cluster.servers) {
      await server.restart();
      await eventually(async () => expect((await redlock.health()).up).toBe(3), 5_000);
      await lock.extend(10_000);
    }
    await eventually(async () => expect(await readers('doc:rolling')).toEqual([1, 1, 1]));
    expect(await lock.release()).toBe(true);
  });

  describe("one node's read script: a reader that holds the node is renewed, whoever queued since", () => {
    const keys = [
      'doc:renew',
      ...['waiters', 'deadlines', 'readers'].map((k) => `doc:renew:redlock:${k}`),
    ];
    const node = () => bed.probe.at(0);
    const member = (value: string) => `10000:inbox:${value}`;
    const attempt = (value: string, asMember: string, join: '0' | '1') =>
      node().eval(QUEUED_READ_ACQUIRE_SCRIPT.source, 4, ...keys, value, 10_000, asMember, '', join);
    /** A live writer queued on the node. */
    const queueWriter = async () => {
      const [seconds] = (await node().time()) as unknown as [string, string];
      const writer = member('w2value');
      await node().zadd(keys[1], 1, writer);
      await node().zadd(keys[2], Number(seconds) * 1000 + 60_000, writer);
    };

    it('after another attempt turned the key handed to it over', async () => {
      const r1 = '~r1value';
      await node().set(keys[0], r1, 'PX', 10_000);
      await queueWriter();
      // A newcomer is refused (a writer waits) but turns R1's handed key into a readers' key.
      expect(await attempt('~newcomer', '', '0')).not.toBe(0);
      expect(await node().get(keys[0])).toBe('!readers');
      // R1's own attempt still holds its turn.
      expect(await attempt(r1, member(r1), '1')).toBe(0);
    });

    it('after its own first attempt was granted and a writer queued', async () => {
      const value = '~firstvalue';
      expect(await attempt(value, '', '0')).toBe(0);
      await queueWriter();
      // The queued attempt that follows a refusal elsewhere renews the grant, not refuses it.
      expect(await attempt(value, member(value), '1')).toBe(0);
      expect(await node().zcard(keys[3])).toBe(1);
    });
  });

  it('refuses bad input before any network call', async () => {
    const redlock: Redlock = make();
    await redlock.health(); // its connections are made and probed
    const before = await bed.probe.lockCommands();
    await expect(redlock.acquireRead(['a', 'b'] as never, 1_000)).rejects.toThrow(
      /one resource name/,
    );
    await expect(redlock.acquireRead('doc', 1_000, { fencing: true })).rejects.toThrow(
      /no `fencing`/,
    );
    await expect(redlock.acquireRead('doc', 0)).rejects.toThrow(RangeError);
    await expect(redlock.usingRead('doc', 1_000, 'nope' as never)).rejects.toThrow(TypeError);
    expect(await bed.probe.lockCommands()).toEqual(before);
  });

  it('holds read locks on a quorum with a node that answers nothing', async () => {
    const redlock = make({ nodeTimeoutMs: 200 });
    await redlock.release(await redlock.acquire('doc:warm', 1_000));
    bed.cluster.servers[2].pause();
    try {
      const lock: Lock = await redlock.acquireRead('doc:down', 10_000);
      expect(lock.mode).toBe('read');
      expect(await lock.release()).toBe(true);
    } finally {
      bed.cluster.servers[2].resume();
    }
  });
});
