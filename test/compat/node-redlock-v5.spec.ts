import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
// What a node-redlock v5 user's code imports, with only the module name changed.
import Redlock, {
  ExecutionError,
  Lock,
  Redlock as NamedRedlock,
  ResourceLockedError,
  type ExecutionStats,
  type RedlockAbortSignal,
} from 'nestjs-redlock/compat';
import { LockLostError, ResourceLockedError as EngineResourceLockedError } from 'nestjs-redlock';
import { retryOptionsOf } from '../../lib/compat/settings.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { RedisCluster } from '../support/redis-nodes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * node-redlock v5's API, exercised the way its users write it, against 3 independent
 * redis-server instances: `new Redlock(clients, settings)` over ioredis clients, `acquire`,
 * `release`, `extend`, `using` with automatic extension, multi-resource locks, `quit()`, and
 * `ExecutionError.attempts` with each node's vote.
 */
describe('nestjs-redlock/compat: node-redlock v5 code on 3 independent nodes', () => {
  let cluster: RedisCluster;
  let probe: NodeProbe;
  const redlocks: Redlock[] = [];

  /** ioredis clients, one per node, as a v5 user makes them. */
  const clients = () =>
    cluster.urls.map((url) => new Redis(url, { autoResendUnfulfilledCommands: false }));
  /** A Redlock as in v5's README; closed (and its clients quit) after each test. */
  const make = (settings: ConstructorParameters<typeof Redlock>[1] = {}) => {
    const redlock = new Redlock(clients(), settings);
    redlocks.push(redlock);
    return redlock;
  };

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
  });
  afterEach(async () => {
    await Promise.all(redlocks.splice(0).map((redlock) => redlock.quit()));
    await probe.flush();
  });
  afterAll(async () => {
    await probe.quit();
    await cluster.stop();
  });

  it('exports Redlock as the default and by name', () => {
    expect(NamedRedlock).toBe(Redlock);
  });

  it('acquires and releases a lock on every node, with the votes of its attempt', async () => {
    const redlock = make();
    const before = Date.now();
    const lock = await redlock.acquire(['invoice:1'], 10_000);
    expect(lock).toBeInstanceOf(Lock);
    expect(lock.redlock).toBe(redlock);
    expect(lock.resources).toEqual(['invoice:1']);
    expect(typeof lock.value).toBe('string');
    // v5's expiration: start + duration − (driftFactor · duration + 2), as Date.now() time.
    expect(lock.expiration).toBeGreaterThan(before + 9_000);
    expect(lock.expiration).toBeLessThanOrEqual(Date.now() + 10_000 - 102);
    // Held on every node (a quorum decides; the third follows).
    await untilEveryNodeHolds('invoice:1', lock.value);

    expect(lock.attempts).toHaveLength(1);
    const stats: ExecutionStats = await lock.attempts[0];
    expect(stats.membershipSize).toBe(3);
    expect(stats.quorumSize).toBe(2);
    expect(stats.votesFor.size).toBeGreaterThanOrEqual(2);
    for (const client of stats.votesFor) expect(redlock.clients.has(client)).toBe(true);

    const { attempts } = await lock.release();
    expect(attempts).toHaveLength(1);
    expect((await attempts[0]).votesFor.size).toBeGreaterThanOrEqual(2);
    expect(lock.expiration).toBe(0);
    expect(await settledValues('invoice:1')).toEqual([null, null, null]);
  });

  it('fails with ExecutionError after retryCount + 1 attempts, each listing the nodes that refused', async () => {
    const holder = make();
    const lock = await holder.acquire(['report'], 10_000);
    await untilEveryNodeHolds('report', lock.value);
    const redlock = make({ retryCount: 2, retryDelay: 20, retryJitter: 10 });
    const events: Error[] = [];
    redlock.on('error', (error: Error) => events.push(error));

    const error = await redlock.acquire(['report'], 10_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutionError);
    const failure = error as ExecutionError;
    expect(failure.message).toBe(
      'The operation was unable to achieve a quorum during its retry window.',
    );
    expect(failure.attempts).toHaveLength(3);
    for (const attempt of failure.attempts) {
      const stats = await attempt;
      expect(stats.votesFor.size).toBe(0);
      expect(stats.votesAgainst.size).toBeGreaterThanOrEqual(2);
      for (const [client, refusal] of stats.votesAgainst) {
        expect(redlock.clients.has(client)).toBe(true);
        expect(refusal).toBeInstanceOf(ResourceLockedError);
      }
    }
    // The engine's own error is the cause, with when the resource may be free again.
    expect(failure.cause).toBeInstanceOf(EngineResourceLockedError);
    expect((failure.cause as EngineResourceLockedError).retryAfterMs).toBeGreaterThan(9_000);
    // Each refusal is emitted as `error`, as v5 does.
    await sleep(0);
    expect(events.length).toBeGreaterThanOrEqual(6);
    expect(events.every((event) => event instanceof ResourceLockedError)).toBe(true);
    // The failed acquisition left nothing behind: the holder's keys only.
    await lock.release();
    expect(await settledKeys()).toEqual([[], [], []]);
  });

  it('locks several resources at once, all or none', async () => {
    const redlock = make({ retryCount: 0 });
    const lock = await redlock.acquire(['account:1', 'account:2'], 10_000);
    expect(lock.resources).toEqual(['account:1', 'account:2']);
    // Overlapping on one resource: refused, and nothing of it is taken.
    await expect(redlock.acquire(['account:2', 'account:3'], 10_000)).rejects.toBeInstanceOf(
      ExecutionError,
    );
    expect(await settledValues('account:3')).toEqual([null, null, null]);
    const other = await redlock.acquire(['account:3'], 10_000);
    await lock.release();
    const again = await redlock.acquire(['account:2', 'account:1'], 10_000);
    await Promise.all([other.release(), again.release()]);
    expect(await settledKeys()).toEqual([[], [], []]);
  });

  it('extends a lock into a new Lock, and the old one reads as expired', async () => {
    const redlock = make();
    const lock = await redlock.acquire(['job'], 1_000);
    await untilEveryNodeHolds('job', lock.value);
    const extended = await lock.extend(20_000);
    expect(extended).toBeInstanceOf(Lock);
    expect(extended).not.toBe(lock);
    expect(extended.value).toBe(lock.value);
    expect(extended.resources).toEqual(['job']);
    expect(extended.attempts).toHaveLength(1);
    expect(lock.expiration).toBe(0);
    expect(extended.expiration).toBeGreaterThan(Date.now() + 19_000);
    await eventually(async () => {
      for (const ttl of await probe.ttls('job')) expect(ttl).toBeGreaterThan(19_000);
    });
    // v5: extending the replaced lock fails at once.
    const stale = await lock.extend(1_000).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ExecutionError);
    expect((stale as ExecutionError).message).toBe('Cannot extend an already-expired lock.');
    expect((stale as ExecutionError).attempts).toEqual([]);
    // Through the Redlock as well, and it can go on extending.
    const again = await redlock.extend(extended, 5_000);
    expect(extended.expiration).toBe(0);
    await redlock.release(again);
    expect(await settledValues('job')).toEqual([null, null, null]);
  });

  it('fails to extend a lock another holder took, at once, with the votes against', async () => {
    const redlock = make({ retryCount: 5, retryDelay: 1_000 });
    const lock = await redlock.acquire(['lapsed'], 10_000);
    await untilEveryNodeHolds('lapsed', lock.value);
    await takeEverywhere('lapsed');
    const startedAt = performance.now();
    const error = await lock.extend(10_000).catch((e: unknown) => e);
    // A lost lock does not come back: no retries (v5 would retry 5 times, a second apart).
    expect(performance.now() - startedAt).toBeLessThan(900);
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as ExecutionError).cause).toBeInstanceOf(LockLostError);
    const [stats] = await Promise.all((error as ExecutionError).attempts);
    expect(stats.votesAgainst.size).toBeGreaterThanOrEqual(2);
    // The other holder's keys are left alone.
    expect(await settledValues('lapsed')).toEqual(['someone-else', 'someone-else', 'someone-else']);
  });

  it('using() extends the lock while the routine runs past its duration, and releases it after', async () => {
    const redlock = make({ automaticExtensionThreshold: 200 });
    const rival = make({ retryCount: 0 });
    const result = await redlock.using(['sync:1'], 500, async (signal: RedlockAbortSignal) => {
      for (let step = 0; step < 6; step++) {
        await sleep(250);
        // Held throughout: another client is refused at every step.
        await expect(rival.acquire(['sync:1'], 500)).rejects.toBeInstanceOf(ExecutionError);
      }
      expect(signal.aborted).toBe(false);
      expect(signal.error).toBeUndefined();
      return 'synced';
    });
    expect(result).toBe('synced');
    expect(await settledValues('sync:1')).toEqual([null, null, null]);
  });

  it('using() with settings: a lost lock aborts the signal and sets signal.error', async () => {
    const redlock = make();
    let seen: { aborted: boolean; error: unknown } | undefined;
    const outcome = await redlock.using(
      ['sync:2'],
      1_000,
      { automaticExtensionThreshold: 400, retryCount: 0 },
      async (signal) => {
        await untilEveryNodeHolds('sync:2');
        // Another holder took the keys (as after they lapsed): the next extension finds the
        // lock gone.
        await takeEverywhere('sync:2');
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        seen = { aborted: signal.aborted, error: signal.error };
        return 'stopped';
      },
    );
    expect(outcome).toBe('stopped');
    expect(seen?.aborted).toBe(true);
    expect(seen?.error).toBeInstanceOf(ExecutionError);
    expect((seen?.error as ExecutionError).cause).toBeInstanceOf(LockLostError);
  });

  it("using() passes the routine's own error through, and releases the lock", async () => {
    const redlock = make();
    const mistake = new Error('insufficient balance');
    await expect(
      redlock.using(['account:9'], 2_000, async () => {
        throw mistake;
      }),
    ).rejects.toBe(mistake);
    expect(await settledValues('account:9')).toEqual([null, null, null]);
  });

  it('wakes a waiter when the holder releases, instead of after its retry delay', async () => {
    const holder = make();
    const lock = await holder.acquire(['queue'], 10_000);
    await untilEveryNodeHolds('queue', lock.value);
    const waiter = make({ retryCount: 3, retryDelay: 5_000, retryJitter: 0 });
    const waiting = waiter.acquire(['queue'], 10_000);
    await sleep(200);
    const releasedAt = performance.now();
    await lock.release();
    const next = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(2_000);
    // As in v5: the refused attempt, then the one that won it (here, the holder's hand-off).
    const [refused, won] = await Promise.all(next.attempts);
    expect(next.attempts).toHaveLength(2);
    expect(refused.votesAgainst.size).toBeGreaterThanOrEqual(2);
    expect(won.votesFor.size).toBeGreaterThanOrEqual(2);
    await next.release();
  });

  it('lists only its own votes in each of two concurrent extensions', async () => {
    const redlock = make();
    const lock = await redlock.acquire(['twice'], 10_000);
    const [a, b] = await Promise.all([lock.extend(10_000), lock.extend(10_000)]);
    expect([a.attempts.length, b.attempts.length]).toEqual([1, 1]);
    const released = await b.release();
    expect(released.attempts).toHaveLength(1);
  });

  it('using() emits the votes against of its automatic extensions, as v5 does', async () => {
    const redlock = make({ automaticExtensionThreshold: 300 });
    const events: Error[] = [];
    redlock.on('error', (error: Error) => events.push(error));
    await redlock.using(['shared'], 500, async (signal) => {
      await untilEveryNodeHolds('shared');
      // Another holder has the keys: the next extension is refused by every node.
      await takeEverywhere('shared');
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    });
    await sleep(0);
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.every((event) => event instanceof ResourceLockedError)).toBe(true);
  });

  it("stops retrying an extension at quit(), and never waits past the lock's validity", async () => {
    const redlock = make({ retryCount: 5, retryDelay: 3_000, retryJitter: 0 });
    const lock = await redlock.acquire(['paused'], 2_000);
    cluster.servers[1].pause();
    cluster.servers[2].pause();
    try {
      const extending = lock.extend(2_000).catch((e: unknown) => e);
      await sleep(500); // the first try fails on the node timeout, then it waits to retry
      const quitAt = performance.now();
      const quitting = redlock.quit();
      const error = await extending;
      // At once, not after the 3 s retry delay.
      expect(performance.now() - quitAt).toBeLessThan(500);
      await quitting;
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe('RedlockClosedError');
    } finally {
      cluster.servers[1].resume();
      cluster.servers[2].resume();
    }
    // Without quit, the wait before a retry is cut at the lock's validity.
    const other = make({ retryCount: 5, retryDelay: 3_000, retryJitter: 0 });
    const short = await other.acquire(['short'], 1_000);
    cluster.servers[1].pause();
    cluster.servers[2].pause();
    try {
      const startedAt = performance.now();
      const error = await short.extend(1_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExecutionError);
      expect(performance.now() - startedAt).toBeLessThan(2_000);
      expect(short.expiration).toBe(0);
    } finally {
      cluster.servers[1].resume();
      cluster.servers[2].resume();
    }
  });

  it('checks durations and settings as v5 does, and refuses what v5 would silently ignore', async () => {
    const redlock = make();
    await expect(redlock.acquire(['d'], 1.5)).rejects.toThrow(
      'Duration must be an integer value in milliseconds.',
    );
    // v5 sends a ttl of 0; the nodes refuse it on every attempt, and it ends in ExecutionError.
    await expect(redlock.acquire(['d'], 0)).rejects.toBeInstanceOf(ExecutionError);
    await expect(
      redlock.using(['d'], 500, { automaticExtensionThreshold: 450 }, async () => 1),
    ).rejects.toThrow(
      'A lock `duration` must be at least 100ms greater than the `automaticExtensionThreshold` setting.',
    );
    // v5's constructor rebuilds a lock from a stored value; here a lock comes from acquire().
    expect(
      () => new (Lock as never as new (...args: unknown[]) => Lock)(redlock, ['d'], 'v', [], 0),
    ).toThrow(/building one from a stored value/);
    // v5 grants a lock on nothing.
    await expect(redlock.acquire([], 1_000)).rejects.toThrow(RangeError);
    // Not a list: the engine's error names the argument.
    await expect(redlock.acquire(undefined as never, 1_000)).rejects.toThrow(
      /Expected `resources` to be a string or an array of strings/,
    );
    await expect(redlock.using(undefined as never, 1_000, async () => 1)).rejects.toThrow(
      /Expected `resources`/,
    );
    // A misspelt setting would leave v5's default in place without a word.
    await expect(redlock.acquire(['d'], 1_000, { retryDelayMs: 10 } as never)).rejects.toThrow(
      /Unknown option `retryDelayMs`.*retryDelay/,
    );
    await expect(redlock.acquire(['d'], 1_000, { retryCount: '3' } as never)).rejects.toThrow(
      RangeError,
    );
    await expect(redlock.acquire(['d'], 1_000, { driftFactor: 0.1 })).rejects.toThrow(
      /per-call `driftFactor`/,
    );
    expect(() => new Redlock([])).toThrow(
      'Redlock must be instantiated with at least one redis client.',
    );
    const spare = clients();
    try {
      expect(() => new Redlock(spare, { retryJiter: 10 } as never)).toThrow(/retryJitter/);
      expect(() => new Redlock(spare[0] as never)).toThrow(/Expected `clients` to be an array/);
      expect(() => new Redlock(spare, {}, { acquireScript: (s: string) => s })).toThrow(
        /Custom scripts/,
      );
    } finally {
      await Promise.all(spare.map((client) => client.quit()));
    }
    expect(await settledKeys()).toEqual([[], [], []]);
  });

  it("maps retryJitter's ± onto the engine's added jitter", () => {
    const base = { driftFactor: 0.01, retryCount: 10, automaticExtensionThreshold: 500 };
    expect(retryOptionsOf({ ...base, retryDelay: 200, retryJitter: 100 })).toEqual({
      retryCount: 10,
      retryDelayMs: 100,
      retryJitterMs: 200,
    });
    // v5 never waits below 0: a jitter larger than the delay is cut at 0.
    expect(retryOptionsOf({ ...base, retryDelay: 50, retryJitter: 100 })).toEqual({
      retryCount: 10,
      retryDelayMs: 0,
      retryJitterMs: 150,
    });
  });

  it('quit() closes the engine and quits the clients it was given, as v5 does', async () => {
    const given = clients();
    const redlock = new Redlock(given);
    const lock = await redlock.acquire(['q'], 10_000);
    await redlock.quit();
    await eventually(() =>
      expect(given.map((client) => client.status)).toEqual(['end', 'end', 'end']),
    );
    // The engine released what it held before closing.
    expect(await settledValues('q')).toEqual([null, null, null]);
    expect(lock.expiration).toBe(0);
  });

  /** Waits until every node holds `key` (with `value`, if given): a quorum decides first. */
  async function untilEveryNodeHolds(key: string, value?: string): Promise<void> {
    for (let tries = 0; tries < 200; tries++) {
      const values = await probe.values(key);
      if (values.every((held) => (value === undefined ? held : held === value))) return;
      await sleep(10);
    }
    throw new Error(`not every node holds ${key}`);
  }

  /** Sets `key` to another holder's value on every node. */
  async function takeEverywhere(key: string): Promise<void> {
    await Promise.all([0, 1, 2].map((index) => probe.at(index).set(key, 'someone-else')));
  }

  /** `key`'s values once the nodes agree (a quorum decides; the last node follows). */
  async function settledValues(key: string): Promise<unknown[]> {
    return settled(() => probe.values(key));
  }

  /** Every key on each node, once they agree. */
  async function settledKeys(): Promise<string[][]> {
    return settled(() => Promise.all([0, 1, 2].map((index) => probe.at(index).keys('*'))));
  }

  async function settled<T>(read: () => Promise<T[]>): Promise<T[]> {
    let values = await read();
    for (let tries = 0; tries < 100; tries++) {
      if (values.every((value) => JSON.stringify(value) === JSON.stringify(values[0]))) break;
      await sleep(10);
      values = await read();
    }
    return values;
  }
});
