import { monotonicNow } from './util/clock.js';
import type { LockLostError } from './errors/index.js';
import type { VotesObserver } from './votes-observer.js';
import { PERMIT_VALUE_PREFIX, READER_VALUE_PREFIX } from './scripts/keys.js';

/** Where a lock stands, as the engine tracks it (internal). */
export interface LockState {
  /** Until when (monotonic ms) the lock is safe to rely on. */
  expiresAt: number;
  /** `held` until released or known lost. */
  status: 'held' | 'released' | 'lost';
  /** Called once if the lock is found lost (set by `using()`). */
  onLost?: (error: LockLostError) => void;
  /** Called when `expiresAt` changes after an extension, failed or not (set by `using()`). */
  onValidityChanged?: () => void;
  /**
   * Told the nodes' votes on each release and extension that does not bring its own observer
   * (set by the compat module's `using()`, whose lock no other call sees).
   */
  onVotes?: VotesObserver;
  /**
   * The holder's member in the resource's wait queues, if it waited there: a node that has not
   * yet handed it the key may still list it, and the release removes it.
   */
  queueMember?: string;
  /** When its acquisition began (monotonic ms): none of its holds was sent before. */
  acquiringSince?: number;
  /** When it was granted (monotonic ms), with telemetry on: its hold time runs from then. */
  grantedAt?: number;
  /** A semaphore permit's limit and slot. */
  readonly permit?: PermitSlot;
}

/** Which slot of a semaphore of `limit` permits a permit holds (internal). */
export interface PermitSlot {
  readonly limit: number;
  readonly slot: number;
}

/** What a lock needs from the engine that issued it (internal). */
export interface LockOwner {
  release(lock: Lock): Promise<boolean>;
  extend(lock: Lock, ttlMs: number): Promise<Lock>;
}

/**
 * Where a lock keeps its state and owner: a hidden (non-enumerable) property under a symbol, so
 * that the class's declaration shows no private fields (`#private` in a `.d.ts` breaks
 * consumers that compile for old targets), and no WeakMap entry is made per lock (the
 * uncontended path makes one lock per operation).
 */
const INTERNALS = Symbol('lock internals');

interface LockInternals {
  readonly owner: LockOwner;
  readonly state: LockState;
}

function internalsOf(lock: Lock): LockInternals {
  return (lock as unknown as { [INTERNALS]: LockInternals })[INTERNALS];
}

/** Internal access to a lock's mutable state, for the engine only (not exported publicly). */
export function lockState(lock: Lock): LockState {
  return internalsOf(lock).state;
}

/**
 * A lock held on a quorum of nodes, as `Redlock.acquire()` returns it. It stays safe to rely on
 * for `validityMs`; extend it before then, or use `Redlock.using()`, which does so for you.
 *
 * @example
 * const lock = await redlock.acquire('order:42', 5_000);
 * try {
 *   await chargeOrder(42);
 * } finally {
 *   await lock.release();
 * }
 */
export class Lock {
  /** The locked resources (the Redis keys), without duplicates. */
  readonly resources: readonly string[];
  /** The random value (128 bits from `crypto`) that identifies this holder on every node. */
  readonly value: string;
  /** How many attempts the acquisition took. */
  readonly attempts: number;
  /**
   * With `fencing: true`: a number that strictly increases per resource across all grants.
   * Pass it to the storage with every read and write, and have the storage refuse a token
   * lower than the highest it has seen (`fencedRedisStore`, or `WHERE fence <= $token` in SQL).
   * `undefined` without fencing.
   */
  readonly fencingToken: bigint | undefined;
  /**
   * For a semaphore permit (`acquireSemaphore()`): which of the semaphore's `limit` slots it
   * holds, from 0 to `limit − 1`. No two holders have the same slot at once, so it can pick a
   * per-permit resource (a connection, a worker). `undefined` for other locks.
   */
  readonly slot: number | undefined;
  /** @internal Locks are made by `Redlock.acquire()`. */
  constructor(
    owner: LockOwner,
    resources: readonly string[],
    value: string,
    attempts: number,
    expiresAt: number,
    fencingToken?: bigint,
    permit?: PermitSlot,
  ) {
    this.resources = resources;
    this.value = value;
    this.attempts = attempts;
    this.fencingToken = fencingToken;
    this.slot = permit?.slot;
    const state: LockState = permit
      ? { expiresAt, status: 'held', permit }
      : { expiresAt, status: 'held' };
    const internals: LockInternals = { owner, state };
    Object.defineProperty(this, INTERNALS, { value: internals });
  }

  /**
   * `'read'` for a read lock (`acquireRead()`: shared with other readers), `'permit'` for a
   * semaphore permit (`acquireSemaphore()`: one of `limit`), `'write'` for every other lock
   * (exclusive).
   */
  get mode(): 'read' | 'write' | 'permit' {
    if (this.value.startsWith(READER_VALUE_PREFIX)) return 'read';
    return this.value.startsWith(PERMIT_VALUE_PREFIX) ? 'permit' : 'write';
  }

  /**
   * Milliseconds for which the lock is still guaranteed: ttl minus the time the acquisition
   * (or the last extension) took, minus the clock-drift allowance, minus the time since. 0 once
   * it has expired, been released or been lost.
   */
  get validityMs(): number {
    const state = lockState(this);
    if (state.status !== 'held') return 0;
    return Math.max(0, Math.floor(state.expiresAt - monotonicNow()));
  }

  /**
   * Releases the lock on every node. Never throws for an expired or lost lock (a `finally` must
   * not hide your own error): resolves to whether a quorum still held it.
   */
  release(): Promise<boolean> {
    return internalsOf(this).owner.release(this);
  }

  /**
   * Sets the lock's ttl to `ttlMs` from now on a quorum of nodes, and resolves to this lock
   * with its new validity. Rejects with `LockLostError` if it had expired or is gone.
   */
  extend(ttlMs: number): Promise<Lock> {
    return internalsOf(this).owner.extend(this, ttlMs);
  }
}
