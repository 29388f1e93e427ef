/** Machine-readable codes of the errors this package throws. */
export type LockErrorCode =
  | 'RESOURCE_LOCKED'
  | 'QUORUM_UNAVAILABLE'
  | 'LOCK_LOST'
  | 'CROSS_SLOT'
  | 'REDLOCK_CLOSED'
  | 'NODE_TIMEOUT'
  | 'NODE_NOT_READY'
  | 'NODE_RESTARTED'
  | 'NODE_MAY_EVICT'
  | 'NODE_MISCONFIGURED'
  | 'STALE_FENCING_TOKEN'
  | 'INVALID_LOCK_KEY'
  | 'REQUEST_ABORTED'
  | 'LOCK_UPGRADE'
  | 'LOCK_KIND_MISMATCH';

/**
 * The base class of every lock error. Branch on `code` rather than on `instanceof` when the
 * package may be loaded twice (an ES module and a CommonJS copy are different classes).
 */
export class LockError extends Error {
  /** What went wrong, as a stable machine-readable string. */
  readonly code: LockErrorCode;

  constructor(code: LockErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LockError';
    this.code = code;
  }
}
