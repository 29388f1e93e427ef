import { describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { NodeClocks } from '../../lib/core/acquire/node-clocks.js';

describe('NodeClocks: the queue priority, on the nodes’ clocks', () => {
  it('knows no priority before any node has answered its clock', () => {
    expect(new NodeClocks(3).priorityAt(100)).toBeUndefined();
  });

  it('reads a node’s time as of its answer', () => {
    const clocks = new NodeClocks(1);
    clocks.observe(0, 1_000_000, 20);
    expect(clocks.priorityAt(20)).toBe(1_000_000);
    expect(clocks.priorityAt(120)).toBe(1_000_100);
  });

  it.each([
    { off: 'ahead', readsMs: 15_000 },
    { off: 'behind', readsMs: -5_000 },
  ])('takes the median: one node 10 s $off moves nobody’s place', ({ readsMs }) => {
    const clocks = new NodeClocks(3);
    clocks.observe(0, 5_000, 0);
    clocks.observe(1, 5_002, 0);
    clocks.observe(2, readsMs, 0);
    expect(clocks.priorityAt(0)).toBe(readsMs > 0 ? 5_002 : 5_000);
  });

  it('averages the two middles of an even count, and follows a step forward at once', () => {
    const clocks = new NodeClocks(4);
    clocks.observe(0, 100, 0);
    clocks.observe(3, 200, 0);
    expect(clocks.priorityAt(0)).toBe(150);
    clocks.observe(0, 300, 0);
    expect(clocks.priorityAt(0)).toBe(250);
  });

  it('follows a step back at half the speed of time: later waiters do not go first', () => {
    const clocks = new NodeClocks(1);
    clocks.observe(0, 10_000, 0); // offset 10 000
    clocks.observe(0, 7_100, 100); // the clock stepped back 3 s (offset 7 000)
    expect(clocks.priorityAt(100)).toBe(10_050); // followed back by 50 ms in 100 ms
    clocks.observe(0, 7_000 + 10_000, 10_000);
    expect(clocks.priorityAt(10_000)).toBe(17_000); // caught up, 10 s on
  });

  it('lets a reply that came back slowly move the offset back no faster than that', () => {
    const clocks = new NodeClocks(1);
    clocks.observe(0, 1_000, 0); // offset 1 000
    clocks.observe(0, 1_040, 100); // its answer took 60 ms to arrive: offset 940
    expect(clocks.priorityAt(100)).toBe(1_050); // back by 50 ms in 100 ms, not 60
  });

  it('knows no priority before a quorum of the nodes’ clocks is known', () => {
    const clocks = new NodeClocks(3, 2);
    clocks.observe(0, 100, 0);
    expect(clocks.priorityAt(0)).toBeUndefined();
    clocks.observe(2, 110, 0);
    expect(clocks.priorityAt(0)).toBe(105);
  });

  it('ignores a reading that is not a number', () => {
    const clocks = new NodeClocks(1);
    clocks.observe(0, Number.NaN, 0);
    expect(clocks.priorityAt(0)).toBeUndefined();
  });

  it('reads the clock of refusals only', () => {
    const clocks = new NodeClocks(4);
    const before = performance.now();
    expect(clocks.readRefusal(0, 0)).toBe(false);
    expect(clocks.readRefusal([0, '7'], 2)).toBe(false);
    expect(clocks.priorityAt(before)).toBeUndefined();
    expect(clocks.readRefusal([250, 9_000], 1)).toBe(true);
    // Node 1's clock read 9 000 as its answer arrived, a few ms after `before` at most.
    const priority = clocks.priorityAt(before)!;
    expect(priority).toBeLessThanOrEqual(9_000);
    expect(priority).toBeGreaterThan(8_900);
  });
});
