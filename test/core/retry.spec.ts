import { describe, expect, it } from '@jest/globals';
import { Redlock, RedlockClosedError, ResourceLockedError } from '../../lib/index.js';
import { watchTimers } from '../support/timer-watch.js';
import { useRedisNodes } from '../support/test-bed.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('retries, waitMs and AbortSignal (3 nodes)', () => {
  const bed = useRedisNodes(3);
  const make = (options = {}) => bed.make(options);

  const failure = async (work: Promise<unknown>) => {
    const startedAt = performance.now();
    const error = await work.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    return { error, elapsedMs: performance.now() - startedAt };
  };

  it('makes exactly retryCount + 1 attempts, waiting retryDelayMs between them', async () => {
    await make().acquire('r:1', 10_000);
    const waiter = make({ retryCount: 3, retryDelayMs: 40, retryJitterMs: 0 });
    const { error, elapsedMs } = await failure(waiter.acquire('r:1', 1_000));
    expect(error).toBeInstanceOf(ResourceLockedError);
    expect((error as ResourceLockedError).attempts).toBe(4);
    // When the waiter's subscription to release notices takes effect, it looks again at once
    // (a notice may have been published before); that look is not a retry.
    expect(elapsedMs).toBeGreaterThanOrEqual(3 * 40 - 5);
    expect(elapsedMs).toBeLessThan(3 * 40 + 400);
  });

  it('fails at once with retryCount 0', async () => {
    await make().acquire('r:2', 10_000);
    const { error } = await failure(
      make({ retryDelayMs: 5_000 }).acquire('r:2', 1_000, { retryCount: 0 }),
    );
    expect((error as ResourceLockedError).attempts).toBe(1);
  });

  it('keeps jitter within retryJitterMs', async () => {
    await make().acquire('r:3', 10_000);
    const waiter = make({ retryCount: 10, retryDelayMs: 0, retryJitterMs: 30 });
    const { error, elapsedMs } = await failure(waiter.acquire('r:3', 1_000));
    expect((error as ResourceLockedError).attempts).toBe(11);
    expect(elapsedMs).toBeLessThan(10 * 30 + 400);
  });

  it('retries until waitMs with retryCount -1, and starts no attempt after it', async () => {
    await make().acquire('r:4', 10_000);
    const waiter = make({ retryCount: -1, retryDelayMs: 30, retryJitterMs: 10 });
    const { error, elapsedMs } = await failure(waiter.acquire('r:4', 1_000, { waitMs: 300 }));
    expect(error).toBeInstanceOf(ResourceLockedError);
    expect((error as ResourceLockedError).attempts).toBeGreaterThan(3);
    expect(elapsedMs).toBeGreaterThanOrEqual(295);
    expect(elapsedMs).toBeLessThan(300 + 400);
  });

  it('gets the lock once the holder releases it', async () => {
    const holder = await make().acquire('r:5', 10_000);
    setTimeout(() => void holder.release(), 100);
    const lock = await make({ retryCount: -1, retryDelayMs: 10, retryJitterMs: 10 }).acquire(
      'r:5',
      1_000,
    );
    expect(lock.attempts).toBeGreaterThan(1);
  });

  it('gets the lock once the holder expires, without a release', async () => {
    await make().acquire('r:6', 300);
    const lock = await make({ retryCount: -1, retryDelayMs: 20 }).acquire('r:6', 1_000, {
      waitMs: 2_000,
    });
    expect(lock.attempts).toBeGreaterThan(1);
  });

  it('stops waiting when the signal aborts, rejecting with its reason', async () => {
    await make().acquire('r:7', 10_000);
    const controller = new AbortController();
    const reason = new Error('client went away');
    setTimeout(() => controller.abort(reason), 100);
    const waiter = make({ retryCount: -1, retryDelayMs: 1_000 });
    const { error, elapsedMs } = await failure(
      waiter.acquire('r:7', 1_000, { signal: controller.signal }),
    );
    expect(error).toBe(reason);
    expect(elapsedMs).toBeLessThan(400);
  });

  it('sends nothing for an already aborted signal', async () => {
    const redlock = make();
    await redlock.health(); // connected, and each connection's probe script run
    const before = await bed.probe.lockCommands();
    const { error } = await failure(redlock.acquire('r:8', 1_000, { signal: AbortSignal.abort() }));
    expect((error as Error).name).toBe('AbortError');
    expect(await bed.probe.lockCommands()).toEqual(before);
  });

  it('rejects a waiting acquire with RedlockClosedError on quit(), and leaves no timer', async () => {
    await make().acquire('r:9', 10_000);
    await sleep(50);
    const timers = watchTimers();
    const waiter = new Redlock(bed.cluster.urls, { retryCount: -1, retryDelayMs: 5_000 });
    const waiting = failure(waiter.acquire('r:9', 1_000));
    await sleep(100);
    expect(timers.pending().length).toBeGreaterThan(0); // the retry delay, at least
    await waiter.quit();
    const { error, elapsedMs } = await waiting;
    expect(error).toBeInstanceOf(RedlockClosedError);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(await timers.settled()).toEqual([]);
    timers.stop();
  });
});
