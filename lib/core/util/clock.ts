import { performance } from 'node:perf_hooks';

/**
 * Milliseconds on a monotonic clock. Every decision about a lock's validity uses this clock:
 * wall-clock time (`Date.now()`) can jump when NTP or an operator sets the clock.
 */
export function monotonicNow(): number {
  return performance.now();
}

/**
 * The clock-drift allowance of the Redlock algorithm: `driftFactor · ttl + 2 ms`, where the
 * 2 ms stand for the granularity of Redis's own expiry.
 */
export function driftMs(ttlMs: number, driftFactor: number): number {
  return Math.floor(ttlMs * driftFactor) + 2;
}

/**
 * The moment (on the monotonic clock) until which a lock taken at `startedAt` is safe:
 * `startedAt + ttl − drift`. The remaining validity is that moment minus now.
 */
export function validUntil(startedAt: number, ttlMs: number, driftFactor: number): number {
  return startedAt + ttlMs - driftMs(ttlMs, driftFactor);
}
