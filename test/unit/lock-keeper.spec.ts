import { describe, expect, it } from '@jest/globals';
import { LockLostError, QuorumUnavailableError } from '../../lib/core/errors/index.js';
import { Lock, lockState } from '../../lib/core/lock.js';
import { LockKeeper, type KeeperHost } from '../../lib/core/lock-keeper.js';
import { monotonicNow } from '../../lib/core/util/clock.js';

/**
 * The lock keeper on a fake engine: the test decides what each extension does, so that the
 * keeper's timing rules can be checked alone (the engine on real nodes is tested elsewhere).
 */
type Outcome = 'extend' | 'lost' | 'no quorum';

function fakeEngine(outcomes: Outcome[], ttlMs: number) {
  const extensions: number[] = [];
  const lost: LockLostError[] = [];
  const host: KeeperHost = {
    extend: async (lock) => {
      extensions.push(monotonicNow());
      const outcome = outcomes.shift() ?? 'extend';
      if (outcome === 'lost') throw new LockLostError(lock.resources, 'gone');
      if (outcome === 'no quorum')
        throw new QuorumUnavailableError('extend', lock.resources, 2, [], 1);
      lockState(lock).expiresAt = monotonicNow() + ttlMs;
      return lock;
    },
    markLost: (_lock, error) => void lost.push(error),
  };
  const lock = new Lock(
    { release: async () => true, extend: async (l) => l },
    ['k'],
    'value',
    1,
    monotonicNow() + ttlMs,
  );
  return { host, lock, extensions, lost };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LockKeeper on a fake engine', () => {
  it('extends when validity falls below the threshold, again and again', async () => {
    const engine = fakeEngine([], 100);
    const keeper = new LockKeeper(engine.host, engine.lock, 100, 60, 10);
    await sleep(230);
    await keeper.stop();
    // Every ~40 ms (validity 100 − threshold 60): about five in 230 ms, at least two on a
    // busy machine.
    expect(engine.extensions.length).toBeGreaterThanOrEqual(2);
    expect(keeper.signal.aborted).toBe(false);
  });

  it('aborts the signal with the LockLostError when an extension finds the lock gone', async () => {
    const engine = fakeEngine(['lost'], 100);
    const keeper = new LockKeeper(engine.host, engine.lock, 100, 60, 10);
    await keeper.ended;
    expect(keeper.signal.reason).toBeInstanceOf(LockLostError);
    expect(engine.extensions).toHaveLength(1);
  });

  it('retries an extension that found no quorum, and succeeds while validity remains', async () => {
    const engine = fakeEngine(['no quorum', 'no quorum', 'extend'], 100);
    const keeper = new LockKeeper(engine.host, engine.lock, 100, 60, 10);
    await sleep(90);
    await keeper.stop();
    expect(engine.extensions.length).toBeGreaterThanOrEqual(3);
    expect(keeper.signal.aborted).toBe(false);
    expect(engine.lost).toEqual([]);
  });

  it('when extensions keep failing, reports the lock lost at its expiry, not later', async () => {
    const engine = fakeEngine(Array(100).fill('no quorum'), 80);
    const startedAt = monotonicNow();
    const keeper = new LockKeeper(engine.host, engine.lock, 80, 40, 10);
    await keeper.ended;
    const endedAfterMs = monotonicNow() - startedAt;
    expect(endedAfterMs).toBeGreaterThanOrEqual(75);
    expect(endedAfterMs).toBeLessThan(600);
    expect(engine.lost).toHaveLength(1);
    expect((keeper.signal.reason as Error).message).toMatch(/expired before it could be extended/);
  });

  it('giveUp stops extending at once but keeps watching the expiry', async () => {
    const engine = fakeEngine([], 80);
    const keeper = new LockKeeper(engine.host, engine.lock, 80, 40, 10);
    const reason = new Error('client went away');
    keeper.giveUp(reason);
    expect(keeper.signal.reason).toBe(reason);
    await keeper.ended;
    expect(engine.extensions).toEqual([]);
    expect(engine.lost.map((error) => error.message)).toEqual([
      expect.stringMatching(/expired after its holder was told to stop/),
    ]);
  });
});
