import { describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { NodeClocks } from '../../lib/core/acquire/node-clocks.js';

describe('NodeClocks: the queue priority, on the nodes’ clocks', () => {
  it('knows no priority before any node has answered its clock', () => {
    expect(new NodeClocks(3).priorityAt(100)).toBeUndefined();
  });

  it('reads a node’s time at the middle of the round trip', () => {
    const clocks = new NodeClocks(1);
    clocks.observe(0, 1_000_000, 10, 20); // read at monotonic 15
    expect(clocks.priorityAt(15)).toBe(1_000_000);
    expect(clocks.priorityAt(115)).toBe(1_000_100);
  });

  it.each([
    { off: 'ahead', readsMs: 15_000 },
    { off: 'behind', readsMs: -5_000 },
  ])('takes the median: one node 10 s $off moves nobody’s place', ({ readsMs }) => {
    const clocks = new NodeClocks(3);
    clocks.observe(0, 5_000, 0, 0);
    clocks.observe(1, 5_002, 0, 0);
    clocks.observe(2, readsMs, 0, 0);
    expect(clocks.priorityAt(0)).toBe(readsMs > 0 ? 5_002 : 5_000);
  });

  it('takes the lower middle of an even count, and follows a step forward at once', () => {
    const clocks = new NodeClocks(4);
    clocks.observe(0, 100, 0, 0);
    clocks.observe(3, 200, 0, 0);
    expect(clocks.priorityAt(0)).toBe(100);
    clocks.observe(0, 300, 0, 0);
    expect(clocks.priorityAt(0)).toBe(200);
  });

  it('follows a step back at 1% of the time passing: later waiters do not go first', () => {
    const clocks = new NodeClocks(1);
    clocks.observe(0, 10_000, 0, 0); // offset 10 000
    clocks.observe(0, 7_100, 100, 100); // the clock stepped back 3 s (offset 7 000)
    expect(clocks.priorityAt(100)).toBe(10_099); // followed back by 1 ms in 100 ms
    clocks.observe(0, 10_100 - 3_000 + 400_000, 400_100, 400_100);
    expect(clocks.priorityAt(400_100)).toBe(407_100); // caught up, 400 s on
  });

  it('reads the clock of refusals only, and answers each node’s number', () => {
    const clocks = new NodeClocks(4);
    const sentAt = performance.now();
    const replies = clocks.observeRefusals([0, [250, 9_000], [0, '7'], undefined], sentAt);
    expect(replies).toEqual([0, 250, 0, undefined]);
    const priority = clocks.priorityAt(sentAt)!;
    // Node 1's clock, read half-way between the send and now, a few ms later at most.
    expect(priority).toBeLessThanOrEqual(9_000);
    expect(priority).toBeGreaterThan(8_900);
  });
});
