import { afterEach, describe, expect, it } from '@jest/globals';
import { eventually } from '../support/eventually.js';
import { useRedisNodes } from '../support/test-bed.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A rolling restart: node 1 restarts empty, then node 2 stops. A majority is up throughout,
 * so a holder that keeps extending must keep its lock: its extensions re-create the key on
 * node 1, which counts once its restart delay has passed.
 */
describe('a rolling restart under a using() holder (3 nodes, no persistence)', () => {
  const bed = useRedisNodes(3);
  afterEach(() => bed.cluster.heal());

  it('keeps the lock: extend re-creates the key where a restart lost it', async () => {
    const holder = bed.make({ restartDelayMs: 300, retryDelayMs: 50 });
    const restarted = new Promise<void>((resolve) => holder.once('nodeRestarted', () => resolve()));
    const outcome = await holder.using('job:roll', 1_000, async (signal, lock) => {
      await eventually(async () =>
        expect(await bed.probe.values('job:roll')).toEqual(Array(3).fill(lock.value)),
      );
      await bed.cluster.servers[1].restart();
      await restarted;
      // An extension re-creates the key on node 1 (its vote vetoed for 300 ms, counted after).
      await eventually(
        async () => expect((await bed.probe.values('job:roll'))[1]).toBe(lock.value),
        3_000,
      );
      await sleep(400);
      await bed.cluster.servers[2].kill();
      await sleep(1_500); // several extensions on nodes 0 and 1 alone
      return {
        aborted: signal.aborted,
        reason: String(signal.reason),
        validityMs: lock.validityMs,
      };
    });
    expect(outcome).toEqual({
      aborted: false,
      reason: 'undefined',
      validityMs: expect.any(Number),
    });
    expect(outcome.validityMs).toBeGreaterThan(0);
  });

  it('does not count a re-created key while the restarted node’s votes are vetoed', async () => {
    const holder = bed.make({ restartDelayMs: 60_000, retryDelayMs: 50 });
    const restarted = new Promise<void>((resolve) => holder.once('nodeRestarted', () => resolve()));
    const lock = await holder.acquire('job:veto', 5_000);
    await eventually(async () =>
      expect(await bed.probe.values('job:veto')).toEqual(Array(3).fill(lock.value)),
    );
    await bed.cluster.servers[1].restart();
    await bed.cluster.servers[2].kill();
    await lock.extend(5_000).catch(() => undefined); // makes the connection notice the restart
    await restarted;
    // Node 1 has the key back, but only node 0's vote counts: no quorum.
    await expect(lock.extend(5_000)).rejects.toThrow(/restarted/);
    await eventually(async () => expect((await bed.probe.values('job:veto'))[1]).toBe(lock.value));
  });
});
