import { describe, expect, it } from '@jest/globals';
import { driftMs, validUntil } from '../../lib/core/util/clock.js';
import { retryAfterMs } from '../../lib/core/acquire/retry-after.js';

describe('validity arithmetic', () => {
  it('subtracts driftFactor · ttl + 2 ms', () => {
    expect(driftMs(10_000, 0.01)).toBe(102);
    expect(driftMs(1_000, 0)).toBe(2);
    expect(validUntil(500, 10_000, 0.01)).toBe(500 + 10_000 - 102);
  });
});

describe('retryAfterMs', () => {
  const tally = (yes: number, replies: (number | undefined)[]) => ({
    yes,
    no: 0,
    replies,
    failures: [],
  });

  it('waits for the soonest expiries that make a quorum', () => {
    // 5 nodes, quorum 3, all held with these PTTLs: the 3rd soonest frees a quorum.
    expect(retryAfterMs(tally(0, [900, 100, 500, 300, 700]), 3)).toBe(500);
    // 2 nodes granted (they are freed by the clean-up release): one more expiry is enough.
    expect(retryAfterMs(tally(2, [0, 0, 900, 400, 700]), 3)).toBe(400);
  });

  it('is Infinity when a needed key has no expiry, and uses what it knows otherwise', () => {
    expect(retryAfterMs(tally(0, [-1, -1, 200]), 2)).toBe(Infinity);
    expect(retryAfterMs(tally(0, [300, undefined, undefined]), 2)).toBe(300);
    expect(retryAfterMs(tally(0, [undefined, undefined, undefined]), 2)).toBe(0);
  });
});
