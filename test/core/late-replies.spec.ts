import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Redlock, ResourceLockedError } from '../../lib/index.js';
import { eventually } from '../support/eventually.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { useRedisNodes } from '../support/test-bed.js';

/**
 * A refusal decided by a majority before the last node answered: the engine waits for that
 * node's reply to tell whether it granted, and cleans up only then and only if it did. The
 * last node is 100 ms away each way through a proxy; the others answer at once.
 */
describe('a refused attempt and the node that answers after the decision', () => {
  const bed = useRedisNodes(3);
  let proxy: TcpProxy;
  let slow: Redlock;

  beforeEach(async () => {
    proxy = await TcpProxy.start(bed.cluster.servers[2].port);
    slow = new Redlock([...bed.cluster.urls.slice(0, 2), proxy.url], {
      retryCount: 0,
      nodeTimeoutMs: 2_000,
    });
    await (await slow.acquire('warm-up', 1_000)).release();
    proxy.set({ kind: 'latency', ms: 100 });
  });
  afterEach(async () => {
    await slow.quit();
    await proxy.close();
  });

  it('sends no clean-up release when the late node refused too', async () => {
    const holder = bed.make();
    const held = await holder.acquire('order:1', 10_000);
    // Every node has run the same scripts (warm-up, holder): none is still in flight.
    let before: number[] = [];
    await eventually(async () => {
      before = await bed.probe.calls('evalsha');
      expect(new Set(before).size).toBe(1);
    });
    await expect(slow.acquire('order:1', 5_000)).rejects.toBeInstanceOf(ResourceLockedError);
    // The late node's refusal has arrived by the time the acquire rejects: it was waited for.
    // The queued attempt that follows the plain one's refusal, and no clean-up release.
    const after = await bed.probe.calls('evalsha');
    expect(after.map((calls, index) => calls - before[index])).toEqual([1, 1, 1]);
    expect(await bed.probe.values('order:1')).toEqual(Array(3).fill(held.value));
  });

  it('releases the late node’s grant before the acquire rejects', async () => {
    // Held on the two near nodes only: the far node grants, after the others refused.
    await Promise.all(
      [0, 1].map((index) => bed.probe.at(index).set('order:2', 'other', 'PX', 10_000)),
    );
    await expect(slow.acquire('order:2', 5_000)).rejects.toBeInstanceOf(ResourceLockedError);
    expect(await bed.probe.values('order:2')).toEqual(['other', 'other', null]);
  });
});
