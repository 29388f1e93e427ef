import { describe, expect, it } from '@jest/globals';
import { useRedisNodes } from '../support/test-bed.js';

/**
 * A retry count counts the attempts a caller would recognise: the look the engine takes once
 * its subscriptions are in effect is not one of them, and a last attempt is granted when the
 * waiter's own entry is first in line (its holder crashed, so nobody hands the key over).
 */
describe('retry counts of a waiter whose holder crashed (3 nodes)', () => {
  const bed = useRedisNodes(3);

  it.each([
    ['plain', false, 1],
    ['plain', false, 2],
    ['fenced', true, 1],
    ['fenced', true, 2],
  ])(
    'a %s waiter (fencing: %s) with retryCount %i is granted the key once it lapses',
    async (_, fencing, retryCount) => {
      const crashed = bed.make({ retryCount: 0, fencing });
      // Never released: the holder "crashed", and its key lapses after 600 ms.
      await crashed.acquire('job:crashed', 600);
      const waiter = bed.make({ retryCount, retryDelayMs: 5_000, retryJitterMs: 0, fencing });
      const startedAt = performance.now();
      const lock = await waiter.acquire('job:crashed', 5_000);
      expect(performance.now() - startedAt).toBeGreaterThan(400);
      expect(await bed.probe.values('job:crashed')).toContain(lock.value);
      if (fencing) expect(lock.fencingToken).toBe(2n);
      await lock.release();
      // Its entry left the queues with the grant, or with the release.
      for (const index of [0, 1, 2]) {
        expect(await bed.probe.at(index).zcard('job:crashed:redlock:waiters')).toBe(0);
      }
    },
  );
});
