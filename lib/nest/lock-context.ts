import { AsyncLocalStorage } from 'node:async_hooks';
import { lockState, type Lock } from '../core/lock.js';
import { LockKindMismatchError, LockUpgradeError, type LockKind } from '../core/errors/index.js';

/** What a call asks for: a read lock, the exclusive lock, or a permit of a semaphore. */
export type LockWanted = 'read' | 'write' | { readonly limit: number };

/** A lock held in the current async context, as `RedlockService.current()` returns it. */
export interface HeldLock {
  /** The lock. */
  readonly lock: Lock;
  /** Aborted, with a `LockLostError`, once the lock can no longer be guaranteed. */
  readonly signal: AbortSignal;
}

interface ContextState {
  /** Every resource held in this context and its parents, with the lock that holds it. */
  readonly held: ReadonlyMap<string, HeldLock>;
  /** The innermost lock. */
  readonly current: HeldLock;
}

/**
 * Which locks the current async context holds, for reentrancy and `current()`. One per
 * `RedlockService`, never global: two applications in one process never share a hold.
 */
export class LockContext {
  private readonly storage = new AsyncLocalStorage<ContextState>();

  /** The innermost lock held here, if any. */
  current(): HeldLock | undefined {
    return this.storage.getStore()?.current;
  }

  /**
   * Of `resources`, those not already held in this context (for reading, a write lock counts
   * too; for a permit, a permit of the same semaphore).
   * @throws {LockUpgradeError} a write lock is asked for on a resource held here for reading.
   * @throws {LockKindMismatchError} a permit is asked for where a lock is held, or the reverse
   * (or a permit of another limit).
   */
  missing(resources: readonly string[], wanted: LockWanted = 'write'): string[] {
    const held = this.storage.getStore()?.held;
    if (!held) return [...resources];
    const kind: LockKind =
      typeof wanted === 'object'
        ? `semaphore:${wanted.limit}`
        : wanted === 'read'
          ? 'read'
          : 'mutex';
    for (const resource of resources) {
      const holding = held.get(resource);
      if (!holding) continue;
      const found = kindOf(holding.lock);
      const permits = (k: LockKind) => k.startsWith('semaphore:');
      if (permits(kind) || permits(found) ? kind !== found : false) {
        throw new LockKindMismatchError([resource], kind, found);
      }
    }
    if (wanted === 'write') {
      const readOnly = resources.filter((resource) => held.get(resource)?.lock.mode === 'read');
      if (readOnly.length > 0) throw new LockUpgradeError(readOnly);
    }
    return resources.filter((resource) => !held.has(resource));
  }

  /** Runs `work` in a child context that also holds `entry` on `resources`. */
  run<T>(resources: readonly string[], entry: HeldLock, work: () => T): T {
    const held = new Map(this.storage.getStore()?.held);
    for (const resource of resources) held.set(resource, entry);
    return this.storage.run({ held, current: entry }, work);
  }
}

/** What a held lock is, as a kind. */
function kindOf(lock: Lock): LockKind {
  if (lock.mode === 'read') return 'read';
  const permit = lockState(lock).permit;
  return permit ? `semaphore:${permit.limit}` : 'mutex';
}
