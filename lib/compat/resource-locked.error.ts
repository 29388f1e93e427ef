/**
 * node-redlock's per-node refusal: the node's key is held by another lock. It appears as a
 * node's vote in `ExecutionStats.votesAgainst` and on the `error` event; an acquisition that
 * fails rejects with `ExecutionError`.
 */
export class ResourceLockedError extends Error {
  /** A stable machine-readable string. */
  readonly code = 'RESOURCE_LOCKED';

  constructor(message: string) {
    super(message);
    this.name = 'ResourceLockedError';
  }
}
