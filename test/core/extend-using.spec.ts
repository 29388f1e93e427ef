import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  LockLostError,
  QuorumUnavailableError,
  Redlock,
  RedlockClosedError,
  ResourceLockedError,
  type Lock,
} from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { NodeProbe } from '../support/node-probe.js';
import { RedisCluster } from '../support/redis-nodes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('extend, using() and lost locks (5 nodes)', () => {
  let cluster: RedisCluster;
  let probe: NodeProbe;
  let redlock: Redlock;
  let other: Redlock;

  beforeAll(async () => {
    cluster = await RedisCluster.start(5);
    probe = new NodeProbe(cluster.servers);
    await probe.connect();
  });
  beforeEach(() => {
    redlock = new Redlock(cluster.urls, { retryCount: 0, retryDelayMs: 20 });
    other = new Redlock(cluster.urls, { retryCount: 0 });
  });
  afterEach(async () => {
    await Promise.all([redlock.quit(), other.quit()]);
    await cluster.heal();
    await probe.flush();
  });
  afterAll(async () => {
    await probe.quit();
    await cluster.stop();
  });

  // Taken by another holder everywhere (a key merely missing would be re-created by extend).
  const takeEverywhere = (key: string) =>
    Promise.all(cluster.servers.map((_, index) => probe.at(index).set(key, 'intruder')));

  it('extends the ttl on the nodes and the validity of the same lock object', async () => {
    const lock = await redlock.acquire('job:1', 1_000);
    const extended: Lock[] = [];
    redlock.on('extended', (which) => extended.push(which));
    await expect(lock.extend(10_000)).resolves.toBe(lock);
    expect(lock.validityMs).toBeGreaterThan(9_000);
    expect(extended).toEqual([lock]);
    await eventually(async () => {
      for (const ttl of await probe.ttls('job:1')) expect(ttl).toBeGreaterThan(9_000);
    });
  });

  it('refuses to extend an expired lock with LockLostError, and emits lost once', async () => {
    const lock = await redlock.acquire('job:2', 200);
    const lost: LockLostError[] = [];
    redlock.on('lost', (_, error) => lost.push(error));
    await sleep(300);
    expect(lock.validityMs).toBe(0);
    const error = await lock.extend(1_000).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).code).toBe('LOCK_LOST');
    await expect(lock.extend(1_000)).rejects.toBeInstanceOf(LockLostError);
    expect(lost).toHaveLength(1);
    // release() of the lost lock does not throw.
    await expect(lock.release()).resolves.toBe(false);
  });

  it('refuses to extend when a quorum no longer holds the value', async () => {
    const lock = await redlock.acquire('job:3', 5_000);
    await eventually(async () =>
      expect(await probe.values('job:3')).toEqual(Array(5).fill(lock.value)),
    );
    await Promise.all([0, 1, 2].map((index) => probe.at(index).set('job:3', 'intruder')));
    await expect(lock.extend(5_000)).rejects.toBeInstanceOf(LockLostError);
    expect(lock.validityMs).toBe(0);
    // The intruder's keys are left alone by the release.
    await lock.release();
    expect((await probe.values('job:3')).slice(0, 3)).toEqual(Array(3).fill('intruder'));
  });

  it('reports QuorumUnavailableError, not a lost lock, when extend cannot reach a quorum', async () => {
    const lock = await redlock.acquire('job:4', 5_000);
    await Promise.all(cluster.servers.slice(0, 3).map((server) => server.kill()));
    await sleep(100);
    await expect(lock.extend(5_000)).rejects.toBeInstanceOf(QuorumUnavailableError);
    expect(lock.validityMs).toBeGreaterThan(4_000);
  });

  it('resolves release() of an expired lock to false without throwing, and emits lost', async () => {
    const lock = await redlock.acquire('job:5', 200);
    const lost: Lock[] = [];
    redlock.on('lost', (which) => lost.push(which));
    await sleep(300);
    await expect(lock.release()).resolves.toBe(false);
    expect(lost).toEqual([lock]);
  });

  it('using() keeps the lock past its ttl while the routine runs, then releases it', async () => {
    const ttlMs = 300;
    let aborted = false;
    const refusals: unknown[] = [];
    const result = await redlock.using('job:6', ttlMs, async (signal) => {
      signal.addEventListener('abort', () => (aborted = true));
      for (let elapsed = 0; elapsed < 4 * ttlMs; elapsed += 100) {
        await sleep(100);
        refusals.push(await other.acquire('job:6', 1_000).catch((error: unknown) => error));
      }
      return 'done';
    });
    expect(result).toBe('done');
    expect(aborted).toBe(false);
    expect(refusals.length).toBeGreaterThanOrEqual(10);
    for (const refusal of refusals) expect(refusal).toBeInstanceOf(ResourceLockedError);
    await eventually(async () => expect(await probe.values('job:6')).toEqual(Array(5).fill(null)));
  });

  it('using() rethrows the routine error unchanged and still releases', async () => {
    const failure = new Error('boom');
    await expect(
      redlock.using('job:7', 5_000, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    await eventually(async () => expect(await probe.values('job:7')).toEqual(Array(5).fill(null)));
    const again = await other.acquire('job:7', 1_000);
    await again.release();
  });

  it('using() aborts its signal with LockLostError when the lock is found gone', async () => {
    const reason = await redlock.using('job:8', 400, async (signal) => {
      await takeEverywhere('job:8');
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return signal.reason;
    });
    expect(reason).toBeInstanceOf(LockLostError);
  });

  it('using() aborts its signal when the lock runs out of validity because nodes died', async () => {
    const ttlMs = 400;
    let lockRef: Lock | undefined;
    const startedAt = performance.now();
    const { reason, abortedAfterMs } = await redlock.using('job:9', ttlMs, async (signal, lock) => {
      lockRef = lock;
      await Promise.all(cluster.servers.slice(0, 3).map((server) => server.kill()));
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return { reason: signal.reason as unknown, abortedAfterMs: performance.now() - startedAt };
    });
    expect(reason).toBeInstanceOf(LockLostError);
    expect((reason as Error).message).toMatch(/expired/);
    // Not before the validity ran out, and not long after.
    expect(abortedAfterMs).toBeGreaterThanOrEqual(ttlMs - 20);
    expect(abortedAfterMs).toBeLessThan(ttlMs + 150);
    expect(lockRef?.validityMs).toBe(0);
  });

  it('quit() aborts a running using() with RedlockClosedError and releases its lock', async () => {
    let started!: () => void;
    const routineStarted = new Promise<void>((resolve) => (started = resolve));
    const running = redlock.using('job:10', 5_000, async (signal) => {
      started();
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return signal.reason;
    });
    // quit() while the routine runs (before it, the acquire itself would fail, as it should).
    await routineStarted;
    await redlock.quit();
    await expect(running).resolves.toBeInstanceOf(RedlockClosedError);
    await eventually(async () => expect(await probe.values('job:10')).toEqual(Array(5).fill(null)));
    await expect(redlock.acquire('job:10', 1_000)).rejects.toBeInstanceOf(RedlockClosedError);
  });

  it('quit() keeps a running using() lock held until the routine settles, then releases it', async () => {
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    let sawAbort: unknown;
    const running = redlock.using('job:11', 5_000, async (signal) => {
      await gate;
      sawAbort = signal.reason;
      return 'finished';
    });
    await eventually(async () =>
      expect((await probe.values('job:11')).filter(Boolean)).toHaveLength(5),
    );
    let quitDone = false;
    const quitting = redlock.quit().then(() => (quitDone = true));
    await sleep(300);
    // The routine still runs: its lock is still held, and quit() waits for it.
    expect(quitDone).toBe(false);
    expect((await probe.values('job:11')).filter(Boolean)).toHaveLength(5);
    finish();
    await expect(running).resolves.toBe('finished');
    await quitting;
    expect(sawAbort).toBeInstanceOf(RedlockClosedError);
    expect(await probe.values('job:11')).toEqual(Array(5).fill(null));
  });

  it('quit() stops extending a routine that never settles, and returns once its lock lapsed', async () => {
    void redlock.using('job:12', 600, () => new Promise<never>(() => undefined));
    await eventually(async () =>
      expect((await probe.values('job:12')).filter(Boolean)).toHaveLength(5),
    );
    const startedAt = performance.now();
    await redlock.quit();
    const tookMs = performance.now() - startedAt;
    expect(tookMs).toBeGreaterThan(200);
    expect(tookMs).toBeLessThan(1_500);
    await eventually(async () => expect(await probe.values('job:12')).toEqual(Array(5).fill(null)));
  });
});
