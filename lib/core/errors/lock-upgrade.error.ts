import { LockError } from './lock.error.js';

/**
 * Code that holds a read lock asked for a write lock on the same resource in the same async
 * context (a `@WithLock` or `using` nested in a read). It fails at once instead of waiting:
 * the write lock would wait for every reader to leave, this one included, which never leaves
 * while it waits. Take the write lock first (a write lock covers reading), or release the
 * read lock before writing.
 */
export class LockUpgradeError extends LockError {
  /** The resources held for reading that a write lock was asked for. */
  readonly resources: readonly string[];

  constructor(resources: readonly string[]) {
    super(
      'LOCK_UPGRADE',
      `A write lock on ${JSON.stringify(resources)} was asked for where a read lock on it is ` +
        'held (in the same async context): it would wait for that reader forever. Take the ' +
        'write lock first (it covers reading), or release the read lock before writing.',
    );
    this.name = 'LockUpgradeError';
    this.resources = resources;
  }
}
