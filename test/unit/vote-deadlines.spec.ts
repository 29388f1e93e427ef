import { describe, expect, it } from '@jest/globals';
import { VoteDeadlines } from '../../lib/core/nodes/vote-deadlines.js';
import { monotonicNow } from '../../lib/core/util/clock.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('VoteDeadlines: one timer for the deadlines of many votes', () => {
  it('expires the entries due, in order, and not the ones cleared', async () => {
    const deadlines = new VoteDeadlines();
    const expired: string[] = [];
    const start = monotonicNow();
    deadlines.add(start + 20, () => expired.push('a'));
    const cleared = deadlines.add(start + 25, () => expired.push('b'));
    deadlines.add(start + 30, () => expired.push('c'));
    deadlines.cancel(cleared);
    await sleep(10);
    expect(expired).toEqual([]);
    await sleep(50);
    expect(expired).toEqual(['a', 'c']);
    deadlines.stop();
  });

  it('re-arms for entries added after the first expired', async () => {
    const deadlines = new VoteDeadlines();
    const expired: number[] = [];
    deadlines.add(monotonicNow() + 5, () => expired.push(1));
    await sleep(20);
    deadlines.add(monotonicNow() + 5, () => expired.push(2));
    await sleep(20);
    expect(expired).toEqual([1, 2]);
    deadlines.stop();
  });

  it('expires nothing after stop(), and leaves no timer', async () => {
    const deadlines = new VoteDeadlines();
    const expired: number[] = [];
    deadlines.add(monotonicNow() + 5, () => expired.push(1));
    deadlines.stop();
    deadlines.add(monotonicNow() + 5, () => expired.push(2));
    await sleep(20);
    expect(expired).toEqual([]);
  });
});
