import { describe } from './describe-resources.js';
import { LockError } from './lock.error.js';

/**
 * What a key is used as: a mutex (`acquire`, `acquireWrite`), read locks (`acquireRead`), or a
 * semaphore with its limit (`semaphore:3`).
 */
export type LockKind = 'mutex' | 'read' | `semaphore:${number}`;

/**
 * One key was asked for as one kind of lock while a node holds it as another: a mutex or a read
 * lock on a semaphore's key, a semaphore on a locked key, or a semaphore with another limit
 * than the one its permits were taken with. It fails at once, without waiting or retrying:
 * waiting would not make the two agree. Whatever the attempt was granted elsewhere is released.
 * Give each kind its own key (`export:tenant-1` for the semaphore, `report:tenant-1` for the
 * mutex), and one limit per semaphore key.
 */
export class LockKindMismatchError extends LockError {
  /** The resources asked for (one of them is held as the other kind). */
  readonly resources: readonly string[];
  /** The kind of lock asked for. */
  readonly wanted: LockKind;
  /** The kind a node holds the key as. */
  readonly found: LockKind;

  constructor(resources: readonly string[], wanted: LockKind, found: LockKind) {
    super(
      'LOCK_KIND_MISMATCH',
      `${describeKind(wanted)} on ${describe(resources)} was asked for, but a node holds ` +
        `it as ${describeKind(found)}. One key is one kind of lock: give each kind its ` +
        'own key, and each semaphore one limit everywhere.',
    );
    this.name = 'LockKindMismatchError';
    this.resources = resources;
    this.wanted = wanted;
    this.found = found;
  }
}

function describeKind(kind: LockKind): string {
  if (kind === 'mutex') return 'a mutex (write lock)';
  if (kind === 'read') return 'a read lock';
  return `a semaphore with limit ${kind.slice('semaphore:'.length)}`;
}
