import { AsyncLocalStorage } from 'node:async_hooks';
import type { Lock } from '../core/lock.js';
import { LockUpgradeError } from '../core/errors/index.js';

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
   * too).
   * @throws {LockUpgradeError} a write lock is asked for on a resource held here for reading.
   */
  missing(resources: readonly string[], mode: 'read' | 'write' = 'write'): string[] {
    const held = this.storage.getStore()?.held;
    if (!held) return [...resources];
    if (mode === 'write') {
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
