import type { Lock as EngineLock } from '../core/lock.js';
import type { ExecutionResult, ExecutionStats } from './execution-stats.js';
import type { Redlock } from './redlock.js';

/** The locks an extension replaced (node-redlock sets their `expiration` to 0). */
const replacedLocks = new WeakSet<Lock>();

/** @internal Marks `lock` as replaced by the lock its extension returned. */
export function markReplaced(lock: Lock): void {
  replacedLocks.add(lock);
}

/** @internal Whether an extension replaced `lock`. */
export function isReplaced(lock: Lock): boolean {
  return replacedLocks.has(lock);
}

/**
 * A lock as node-redlock v5 returns it. `expiration` is read from the engine's monotonic
 * validity: `Date.now()` plus the milliseconds the lock is still guaranteed, and 0 once it is
 * released, lost, or replaced by the lock `extend()` returned.
 */
export class Lock {
  /** The locked resources, as given. */
  readonly resources: string[];
  /** The random value that identifies this holder on every node. */
  readonly value: string;
  /** The votes of each attempt that won it (one promise per attempt, each resolved already). */
  readonly attempts: ReadonlyArray<Promise<ExecutionStats>>;
  /**
   * The engine's lock behind it (`nestjs-redlock`'s `Lock`: `validityMs`, `fencingToken`,
   * `mode`), for code that moves to the native API one call at a time.
   */
  readonly native: EngineLock;

  /**
   * @internal Made by the compat `Redlock`. node-redlock's `new Lock(redlock, resources, value,
   * attempts, expiration)`, to rebuild a lock from a stored value, is refused: a lock is
   * released or extended by the process that holds it, or lapses.
   */
  constructor(
    /** The Redlock that acquired it. */
    readonly redlock: Redlock,
    resources: string[],
    native: EngineLock,
    attempts: ReadonlyArray<Promise<ExecutionStats>>,
  ) {
    if (typeof native !== 'object' || native === null || typeof native.value !== 'string') {
      throw new TypeError(
        'A compat Lock comes from acquire() or extend(); building one from a stored value ' +
          "(node-redlock's `new Lock(redlock, resources, value, attempts, expiration)`) is not " +
          'supported: the process that holds a lock releases or extends it, or it lapses',
      );
    }
    this.resources = resources;
    this.value = native.value;
    this.native = native;
    this.attempts = attempts;
  }

  /**
   * Until when the lock is guaranteed, as a `Date.now()` timestamp; 0 once released, lost or
   * extended (the extension's lock carries it on). Computed on each read from the engine's
   * monotonic clock, so a wall-clock jump does not make it lie about the lock.
   */
  get expiration(): number {
    if (replacedLocks.has(this)) return 0;
    const validityMs = this.native.validityMs;
    return validityMs > 0 ? Date.now() + validityMs : 0;
  }

  /** node-redlock lets code assign `expiration`; here it is the engine's, and assigning throws. */
  set expiration(_value: number) {
    throw new TypeError(
      "A compat Lock's `expiration` comes from the engine's monotonic clock and cannot be set; " +
        'release() the lock to give it up',
    );
  }

  /** Releases the lock (see the compat `Redlock.release`). */
  release(): Promise<ExecutionResult> {
    return this.redlock.release(this);
  }

  /** Extends the lock by `duration` from now, and resolves to the lock that carries it on. */
  extend(duration: number): Promise<Lock> {
    return this.redlock.extend(this, duration);
  }
}
