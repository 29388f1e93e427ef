/**
 * What one node answered to the last attempt of an operation that failed, as carried by
 * `ResourceLockedError`, `QuorumUnavailableError` and `LockLostError` (`votes`, one per node,
 * in the order the nodes were given): for debugging a refusal.
 *
 * - `for`: it granted (the lock, a permit's slot, the extension). For a semaphore, a grant of
 *   another slot than the one counted is `against`.
 * - `against`: it answered, and refused (the key is held there).
 * - `failed`: it failed, timed out or was down (`error` says why).
 * - `not counted`: it granted, but its vote did not count (`error` says why: it restarted
 *   less than `restartDelayMs` ago, or it may evict keys).
 * - `pending`: it had not answered when the outcome was decided (a quorum of the others
 *   decided without it).
 */
export interface NodeVote {
  /** The node, as `host:port` (never with its password), as in `nodeErrors`. */
  readonly node: string;
  /** Its vote. */
  readonly vote: 'for' | 'against' | 'failed' | 'not counted' | 'pending';
  /** Why it failed or did not count; `undefined` for the other votes. */
  readonly error?: Error;
}
