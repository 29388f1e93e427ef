import { LockError } from './lock.error.js';
import { describe } from './describe-resources.js';
import type { NodeVote } from './node-vote.js';

/**
 * The lock is no longer held: it expired before it could be extended, or a quorum of nodes no
 * longer holds its value. Work done under it may have overlapped with another holder's.
 */
export class LockLostError extends LockError {
  /** The resources of the lost lock. */
  readonly resources: readonly string[];
  /**
   * For a failed extension: what each node answered to it (see {@link NodeVote}). Empty when
   * the lock expired before it could be extended.
   */
  readonly votes: readonly NodeVote[];

  constructor(resources: readonly string[], reason: string, votes: readonly NodeVote[] = []) {
    super(
      'LOCK_LOST',
      `The lock on ${describe(resources)} was lost: ${reason}. ` +
        'Use a longer ttl, or `using()` to extend it automatically.',
    );
    this.name = 'LockLostError';
    this.resources = resources;
    this.votes = votes;
  }
}
