import { describe, expect, it } from '@jest/globals';
import { checkPermits } from '../faults/permit-checker.js';
import type { Grant } from '../faults/history.js';

const grant = (worker: number, lock: string, at: number, validUntil: number): Grant => ({
  type: 'grant',
  worker,
  lock,
  startedAt: at - 1,
  at,
  validUntil,
});

describe('the fault suite’s permit checker', () => {
  it('passes permits that never exceed the limit, handed on at once', () => {
    const grants = [grant(1, 'a', 0, 100), grant(2, 'b', 10, 100), grant(3, 'c', 50, 150)];
    // a is released at 50, the instant c is granted.
    const report = checkPermits(grants, new Map([['a', 50]]), 2);
    expect(report).toEqual({ grants: 3, mostAtOnce: 2, violations: [] });
  });

  it('finds a third permit while two are valid, and ends a permit at its validity', () => {
    const grants = [grant(1, 'a', 0, 100), grant(2, 'b', 10, 100), grant(3, 'c', 50, 150)];
    const report = checkPermits(grants, new Map(), 2);
    expect(report.mostAtOnce).toBe(3);
    expect(report.violations).toEqual(['3 permits valid at 50.0 (limit 2): workers 1, 2, 3']);
    // b's validity ran out before c: no overlap.
    const lapsed = [grant(1, 'a', 0, 100), grant(2, 'b', 10, 40), grant(3, 'c', 50, 150)];
    expect(checkPermits(lapsed, new Map(), 2).violations).toEqual([]);
  });
});
