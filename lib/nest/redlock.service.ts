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
import { LockContext, type HeldLock } from './lock-context.js';
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
   * once with the innermost lock.
   */
  async using<T>(
    resources: string | readonly string[],
    ttlMs: number | undefined,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T> | T,
    options?: UsingOptions,
  ): Promise<T> {
    const missing = this.context.missing(this.keys(resources));
    const current = this.context.current();
    if (missing.length === 0 && current) {
      // A reentrant call never reaches the engine, which checks the options otherwise.
      assertAcquireOptions(options, USING_OPTION_KEYS);
      return routine(current.signal, current.lock);
    }
    return this.redlock.using(
      missing,
      ttlMs ?? this.defaultTtlMs,
      (signal, lock) =>
        this.context.run(missing, { lock, signal }, () => Promise.resolve(routine(signal, lock))),
      options,
    );
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
