import {
  Inject,
  Injectable,
  Logger,
  type LoggerService,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { toResourceList } from '../core/util/arguments.js';
import type { Lock } from '../core/lock.js';
import {
  assertAcquireOptions,
  USING_OPTION_KEYS,
  type AcquireOptions,
  type UsingOptions,
} from '../core/options.js';
import { Redlock } from '../core/redlock.js';
import { describeWithAdvice } from '../core/nodes/node-diagnosis.js';
import { namingWhere } from './argument-error.js';
import { LockContext, type HeldLock } from './lock-context.js';
import { REDLOCK_MODULE_OPTIONS } from './redlock.constants.js';
import type { ResolvedRedlockModuleOptions } from './redlock-module-options.js';

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
export class RedlockService implements OnApplicationShutdown {
  /** The core engine, for what the service does not wrap (events, options). */
  readonly redlock: Redlock;
  /** The HTTP status `LockInterceptor` answers when too few nodes answer (module option). */
  readonly unavailableStatus: 423 | 503;
  private readonly context = new LockContext();
  private readonly keyPrefix: string;
  private readonly defaultTtlMs: number;

  constructor(@Inject(REDLOCK_MODULE_OPTIONS) options: ResolvedRedlockModuleOptions) {
    const {
      nodes,
      defaultTtlMs,
      keyPrefix,
      logger: loggerOption,
      unavailableStatus = 423,
      ...engineOptions
    } = options;
    this.unavailableStatus = unavailableStatus;
    const logger: LoggerService | undefined =
      loggerOption === false ? undefined : (loggerOption ?? new Logger('Redlock'));
    this.redlock = namingWhere('RedlockModule', () => new Redlock(nodes, engineOptions));
    if (nodes.length % 2 === 0) {
      logger?.warn(
        `RedlockModule: ${nodes.length} nodes give no more fault tolerance than ${nodes.length - 1}; ` +
          'use an odd number of independent nodes.',
      );
    }
    this.keyPrefix = keyPrefix;
    this.defaultTtlMs = defaultTtlMs;
    this.redlock.on('lost', (lock, error) =>
      logger?.warn(`${error.message} (${lock.resources.join(', ')})`),
    );
    this.redlock.on('nodeError', (error, node) => logger?.debug?.(`${node}: ${error.message}`));
    // Once per outage (and per change of cause), where people look: a refused password must
    // not hide at debug level while the app answers 423.
    this.redlock.on('nodeDown', (node, error) =>
      logger?.warn(`Redis node ${node} is down: ${describeWithAdvice(error)}`),
    );
    this.redlock.on('nodeUp', (node) => logger?.log(`Redis node ${node} is up again`));
    this.redlock.on('warning', (warning) =>
      warning.code === 'NODE_MAY_EVICT'
        ? logger?.error(warning.message)
        : logger?.warn(warning.message),
    );
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
    // Checked here too: a reentrant call below never reaches the engine's checks.
    assertAcquireOptions(options, USING_OPTION_KEYS);
    const missing = this.context.missing(this.keys(resources));
    const current = this.context.current();
    if (missing.length === 0 && current) return routine(current.signal, current.lock);
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

  /** @internal Closes the engine: releases held locks, closes the connections it opened. */
  async onApplicationShutdown(): Promise<void> {
    await this.redlock.quit();
  }

  /** `resources` checked (a clear error for bad input) and prefixed. */
  private keys(resources: string | readonly string[]): string[] {
    return toResourceList(resources).map((resource) => this.keyPrefix + resource);
  }
}
