import { Inject, Injectable } from '@nestjs/common';
import { toResourceList } from '../core/util/arguments.js';
import type { Lock } from '../core/lock.js';
import {
  assertAcquireOptions,
  USING_OPTION_KEYS,
  type AcquireOptions,
  type UsingOptions,
} from '../core/options.js';
import { Redlock } from '../core/redlock.js';
import { assertSemaphoreLimit } from '../core/semaphore-limit.js';
import { LockContext, type HeldLock, type LockWanted } from './lock-context.js';
import { REDLOCK_MODULE_OPTIONS } from './redlock.constants.js';

/**
 * The engine as a Nest provider: `acquire`, `release`, `extend`, `using`, and `current()`, the
 * lock held by the current async context. Resource names get the module's `keyPrefix`; a
 * missing ttl is the module's `defaultTtlMs`. Closed, with the locks it still holds released,
 * on application shutdown.
 *
 * @example
 * constructor(private readonly redlock: RedlockService) {}
 *
 * async rebuildIndex() {
 *   await this.redlock.using('index:rebuild', undefined, async (signal) => this.index.rebuild({ signal }));
 * }
 */
@Injectable()
export class RedlockService {
  private readonly context = new LockContext();
  private readonly keyPrefix: string;
  private readonly defaultTtlMs: number;

  constructor(
    /** The core engine, for what the service does not wrap (events, options, health). */
    @Inject(Redlock) readonly redlock: Redlock,
    @Inject(REDLOCK_MODULE_OPTIONS) options: { keyPrefix: string; defaultTtlMs: number },
  ) {
    this.keyPrefix = options.keyPrefix;
    this.defaultTtlMs = options.defaultTtlMs;
  }

  /** Acquires `resources` (prefixed); see `Redlock.acquire`. */
  async acquire(
    resources: string | readonly string[],
    ttlMs?: number,
    options?: AcquireOptions,
  ): Promise<Lock> {
    return this.redlock.acquire(this.keys(resources), ttlMs ?? this.defaultTtlMs, options);
  }

  /** Acquires a read lock on `resource` (prefixed); see `Redlock.acquireRead`. */
  async acquireRead(resource: string, ttlMs?: number, options?: AcquireOptions): Promise<Lock> {
    return this.redlock.acquireRead(this.keys(resource)[0], ttlMs ?? this.defaultTtlMs, options);
  }

  /** Acquires a write lock on `resources` (prefixed): the same as {@link acquire}. */
  async acquireWrite(
    resources: string | readonly string[],
    ttlMs?: number,
    options?: AcquireOptions,
  ): Promise<Lock> {
    return this.acquire(resources, ttlMs, options);
  }

  /**
   * Acquires a permit of the semaphore `key` (prefixed): at most `limit` holders at once; see
   * `Redlock.acquireSemaphore`.
   */
  async acquireSemaphore(
    key: string,
    limit: number,
    ttlMs?: number,
    options?: AcquireOptions,
  ): Promise<Lock> {
    return this.redlock.acquireSemaphore(
      this.keys(key)[0],
      limit,
      ttlMs ?? this.defaultTtlMs,
      options,
    );
  }

  /**
   * Runs `routine` holding a permit of the semaphore `key` (prefixed), as
   * `Redlock.usingSemaphore` does, and makes the permit the `current()` lock inside it.
   * Reentrant: where the current async context holds a permit of the same semaphore, `routine`
   * runs at once with it. A semaphore's key held here as a lock (or the reverse) fails at once
   * with `LockKindMismatchError`.
   */
  async usingSemaphore<T>(
    key: string,
    limit: number,
    ttlMs: number | undefined,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T> | T,
    options?: UsingOptions,
  ): Promise<T> {
    assertSemaphoreLimit(limit);
    return this.usingMode({ limit }, key, ttlMs, routine, options);
  }

  /** Releases `lock`; resolves to whether a quorum still held it. Never throws for a lost lock. */
  release(lock: Lock): Promise<boolean> {
    return this.redlock.release(lock);
  }

  /** Extends `lock` by `ttlMs` (default: the module's `defaultTtlMs`) from now. */
  extend(lock: Lock, ttlMs?: number): Promise<Lock> {
    return this.redlock.extend(lock, ttlMs ?? this.defaultTtlMs);
  }

  /**
   * Runs `routine` holding `resources`, as `Redlock.using` does, and makes the lock the
   * `current()` one inside it. Reentrant: resources that the current async context already
   * holds are not locked again (nor released at the end); if all are held, `routine` runs at
   * once with the innermost lock. A resource held here for reading fails at once with
   * `LockUpgradeError` (waiting would never end).
   */
  async using<T>(
    resources: string | readonly string[],
    ttlMs: number | undefined,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T> | T,
    options?: UsingOptions,
  ): Promise<T> {
    return this.usingMode('write', resources, ttlMs, routine, options);
  }

  /**
   * Runs `routine` holding a read lock on `resource`, as `Redlock.usingRead` does, and makes it
   * the `current()` lock inside it. Reentrant: a resource the current async context already
   * holds, for reading or writing, is not locked again.
   */
  async usingRead<T>(
    resource: string,
    ttlMs: number | undefined,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T> | T,
    options?: UsingOptions,
  ): Promise<T> {
    return this.usingMode('read', resource, ttlMs, routine, options);
  }

  /** Runs `routine` holding a write lock on `resources`: the same as {@link using}. */
  async usingWrite<T>(
    resources: string | readonly string[],
    ttlMs: number | undefined,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T> | T,
    options?: UsingOptions,
  ): Promise<T> {
    return this.usingMode('write', resources, ttlMs, routine, options);
  }

  private async usingMode<T>(
    mode: LockWanted,
    resources: string | readonly string[],
    ttlMs: number | undefined,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T> | T,
    options: UsingOptions | undefined,
  ): Promise<T> {
    if (typeof mode === 'object' && typeof resources !== 'string') {
      // The engine refuses it, by name: a semaphore is one key.
      return this.redlock.usingSemaphore(
        resources as never,
        mode.limit,
        ttlMs ?? this.defaultTtlMs,
        async (signal, lock) => routine(signal, lock),
      );
    }
    if (mode === 'read' && typeof resources !== 'string') {
      // The engine refuses it, by name: a read lock is on one resource.
      return this.redlock.usingRead(
        resources as never,
        ttlMs ?? this.defaultTtlMs,
        async (signal, lock) => routine(signal, lock),
      );
    }
    const missing = this.context.missing(this.keys(resources), mode);
    const current = this.context.current();
    if (missing.length === 0 && current) {
      // A reentrant call never reaches the engine, which checks the options otherwise.
      assertAcquireOptions(options, USING_OPTION_KEYS);
      return routine(current.signal, current.lock);
    }
    const run = (signal: AbortSignal, lock: Lock) =>
      this.context.run(missing, { lock, signal }, () => Promise.resolve(routine(signal, lock)));
    const ttl = ttlMs ?? this.defaultTtlMs;
    if (typeof mode === 'object') {
      return this.redlock.usingSemaphore(missing[0], mode.limit, ttl, run, options);
    }
    return mode === 'read'
      ? this.redlock.usingRead(missing[0], ttl, run, options)
      : this.redlock.using(missing, ttl, run, options);
  }

  /** The innermost lock held by the current async context (inside `using` or `@WithLock`). */
  current(): HeldLock | undefined {
    return this.context.current();
  }

  /** `resources` checked (a clear error for bad input) and prefixed. */
  private keys(resources: string | readonly string[]): string[] {
    return toResourceList(resources).map((resource) => this.keyPrefix + resource);
  }
}
