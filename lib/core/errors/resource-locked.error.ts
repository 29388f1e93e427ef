import { describe } from './describe-resources.js';
import { LockError } from './lock.error.js';
import type { NodeVote } from './node-vote.js';

/**
 * Another holder has the resource: a quorum of nodes could not be won because the key is
 * taken (for a semaphore: every permit is), and the retries (if any) ran out.
 */
export class ResourceLockedError extends LockError {
  /** The resources that were asked for. */
  readonly resources: readonly string[];
  /**
   * Milliseconds until enough nodes see the current holder's keys expire for a quorum to be
   * won, from the nodes' own `PTTL` (the holder may release or extend before). `Infinity` when
   * a key has no expiry, i.e. it was written by something other than this library.
   */
  readonly retryAfterMs: number;
  /** How many acquisition attempts were made. */
  readonly attempts: number;
  /**
   * For a semaphore (`acquireSemaphore()`): its limit, every permit of which was held or kept
   * for the waiters ahead. `undefined` for other locks.
   */
  readonly limit: number | undefined;
  /** What each node answered to the last attempt (see {@link NodeVote}). */
  readonly votes: readonly NodeVote[];

  constructor(
    resources: readonly string[],
    retryAfterMs: number,
    attempts: number,
    limit?: number,
    votes: readonly NodeVote[] = [],
  ) {
    super(
      'RESOURCE_LOCKED',
      (limit === undefined
        ? `Resource ${describe(resources)} is locked by another holder `
        : `Semaphore ${describe(resources)} has all ${limit} permits held `) +
        `(${attempts} attempt${attempts === 1 ? '' : 's'}; it may be free again in ` +
        `${Number.isFinite(retryAfterMs) ? `${retryAfterMs} ms` : 'an unknown time: a key has no expiry'}). ` +
        'Retry later, or wait longer with the `retryCount`, `waitMs` or `signal` options.',
    );
    this.name = 'ResourceLockedError';
    this.resources = resources;
    this.retryAfterMs = retryAfterMs;
    this.attempts = attempts;
    this.limit = limit;
    this.votes = votes;
  }
}
