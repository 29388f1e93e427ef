import { EventEmitter } from 'node:events';
import { isLockError } from '../core/errors/is-lock-error.js';
import { lockState } from '../core/lock.js';
import { RedlockClosedError } from '../core/errors/redlock-closed.error.js';
import { closeConnection } from '../core/nodes/close-connection.js';
import type { Redis } from 'ioredis';
import { Redlock as EngineRedlock } from '../core/redlock.js';
import { sleep } from '../core/util/sleep.js';
import { OBSERVE_VOTES } from '../core/votes-observer.js';
import { AttemptLog } from './attempt-log.js';
import { ExecutionError } from './execution.error.js';
import {
  statsOf,
  type Client,
  type ExecutionResult,
  type ExecutionStats,
} from './execution-stats.js';
import { isReplaced, Lock, markReplaced } from './lock.js';
import {
  CONSTRUCTOR_KEYS,
  DEFAULT_SETTINGS,
  mergeSettings,
  retryOptionsOf,
  type EngineSettings,
  type Settings,
} from './settings.js';

/** node-redlock's message for an operation that ran out of attempts. */
const NO_QUORUM = 'The operation was unable to achieve a quorum during its retry window.';

/** The signal `using()` passes its routine: aborted, with `error` set, when the lock is lost. */
export type RedlockAbortSignal = AbortSignal & {
  /** Why the lock was lost (an `ExecutionError` whose `cause` is the engine's error). */
  error?: Error;
};

/**
 * node-redlock v5's `Redlock`, on this package's engine: `import Redlock from
 * 'nestjs-redlock/compat'` in place of `import Redlock from 'redlock'`. Its API and defaults are
 * node-redlock 5.0.0-beta.2's; where the engine must behave otherwise (its fair wait queue,
 * restart detection, a node timeout, monotonic validity), `docs/migrating-from-node-redlock.md`
 * lists each difference. `native` is the engine's own `Redlock` on the same connections.
 *
 * @example
 * const redlock = new Redlock([redisA, redisB, redisC], { retryCount: 10, retryDelay: 200 });
 * await redlock.using(['invoice:42'], 5000, async (signal) => {
 *   await sendInvoice(42);
 *   if (signal.aborted) throw signal.error;
 * });
 */
export class Redlock extends EventEmitter {
  /** The clients passed in; `quit()` quits them, as node-redlock does. */
  readonly clients: Set<Client>;
  /** The settings, node-redlock's defaults filled in. */
  readonly settings: Settings;
  /** The engine's `Redlock` behind it, for code that moves to the native API. */
  readonly native: EngineRedlock;
  /** The clients in node order, as the engine reports votes. */
  private readonly clientList: readonly Client[];
  /** Aborts at `quit()`: an extension waiting to retry stops waiting. */
  private readonly closing = new AbortController();

  /**
   * @param clients ioredis clients of independent Redis nodes (at least one).
   * @param settings node-redlock's {@link Settings}, and the engine's {@link EngineSettings}.
   * @param scripts node-redlock's custom Lua scripts: not supported (the engine's scripts keep
   * its wait queue and fencing), so passing any is an error.
   */
  constructor(
    clients: Iterable<Client>,
    settings?: Partial<Settings> & EngineSettings,
    scripts?: unknown,
  ) {
    super();
    // As in node-redlock: an `error` event with no listener of the caller's never throws.
    this.on('error', () => {});
    if (typeof (clients as Partial<Iterable<Client>> | null)?.[Symbol.iterator] !== 'function') {
      throw new TypeError(
        'Expected `clients` to be an array (or another iterable) of ioredis clients, one per node',
      );
    }
    this.clients = new Set(clients);
    if (this.clients.size === 0) {
      throw new TypeError('Redlock must be instantiated with at least one redis client.');
    }
    if (scripts !== undefined) {
      throw new TypeError(
        "Custom scripts (node-redlock's third argument) are not supported: this engine's " +
          'scripts keep its wait queues and fencing tokens. Drop the argument',
      );
    }
    this.settings = mergeSettings(DEFAULT_SETTINGS, settings, 'settings', CONSTRUCTOR_KEYS);
    this.clientList = [...this.clients];
    const { nodeTimeoutMs, restartDelayMs, evictingNodes, quorum } = settings ?? {};
    this.native = new EngineRedlock(this.clientList, {
      driftFactor: this.settings.driftFactor,
      ...retryOptionsOf(this.settings),
      autoExtendThresholdMs: this.settings.automaticExtensionThreshold,
      nodeTimeoutMs,
      restartDelayMs,
      evictingNodes,
      quorum,
    });
  }

  /**
   * Closes the engine (its pending acquisitions reject, its `using()` routines are told), then
   * quits the clients passed in, as node-redlock does (a client whose node does not answer QUIT
   * within a second is disconnected).
   */
  async quit(): Promise<void> {
    this.closing.abort(new RedlockClosedError());
    await this.native.quit();
    // QUIT, or a plain close when a node does not answer it within a second (a paused node
    // would hold v5's `quit()` forever).
    await Promise.all(this.clientList.map((client) => closeConnection(client as Redis)));
  }

  /**
   * Acquires `resources` (all or none) for `duration` milliseconds, retrying per the settings.
   * @throws {ExecutionError} the resources stayed locked, or too few nodes answered, through
   * every attempt; its `cause` is the engine's error.
   */
  async acquire(
    resources: string[],
    duration: number,
    settings?: Partial<Settings>,
  ): Promise<Lock> {
    assertDuration(duration);
    const merged = this.callSettings(settings);
    const log = this.attemptLog(resourceCount(resources));
    try {
      const native = await this.native.acquire(resources, duration, {
        ...retryOptionsOf(merged),
        [OBSERVE_VOTES]: log.observe,
      } as object);
      return new Lock(this, resourceList(resources), native, log.attempts);
    } catch (error) {
      throw executionError(error, log.attempts);
    } finally {
      log.close();
    }
  }

  /**
   * Releases `lock` on every node (compare-and-delete). Resolves with the votes, also when a
   * quorum no longer held the lock (it expired, or was lost): unlike node-redlock, releasing
   * such a lock is not an error (it is gone either way). `settings` are checked, and otherwise
   * unused: a release is one round, bounded by the node timeout.
   */
  async release(lock: Lock, settings?: Partial<Settings>): Promise<ExecutionResult> {
    assertLock(lock);
    this.callSettings(settings);
    const log = this.attemptLog(lock.resources.length);
    try {
      await this.native.releaseObserved(lock.native, log.observe);
    } finally {
      log.close();
    }
    return { attempts: log.attempts };
  }

  /**
   * Extends `existing` to `duration` milliseconds from now on a quorum, retrying per the
   * settings while too few nodes answer, and resolves to a new `Lock` that carries it on
   * (`existing.expiration` becomes 0).
   * @throws {ExecutionError} the lock had expired ("Cannot extend an already-expired lock."),
   * is no longer held by a quorum (at once: a lost lock does not come back), or too few nodes
   * answered through every attempt.
   */
  async extend(existing: Lock, duration: number, settings?: Partial<Settings>): Promise<Lock> {
    assertLock(existing);
    assertDuration(duration);
    const merged = this.callSettings(settings);
    if (isReplaced(existing) || existing.native.validityMs <= 0) {
      throw new ExecutionError('Cannot extend an already-expired lock.', []);
    }
    const log = this.attemptLog(existing.resources.length);
    try {
      for (let retries = 0; ; retries++) {
        try {
          await this.native.extendObserved(existing.native, duration, log.observe);
          markReplaced(existing);
          return new Lock(this, existing.resources, existing.native, log.attempts);
        } catch (error) {
          const retry =
            isLockError(error, 'QUORUM_UNAVAILABLE') &&
            (merged.retryCount === -1 || retries < merged.retryCount);
          if (!retry) throw executionError(error, log.attempts);
          log.close();
          // Never past the lock's validity: an extension after it is no use.
          await sleep(Math.min(retryDelayOf(merged), existing.native.validityMs), [
            this.closing.signal,
          ]);
          if (existing.native.validityMs <= 0) throw executionError(error, log.attempts);
        }
      }
    } finally {
      log.close();
    }
  }

  /**
   * Acquires `resources`, runs `routine`, and releases them when it settles, extending the lock
   * while it runs. When the lock is lost, `signal.error` is set and `signal` aborts: stop
   * writing then. The lock is never released while the routine may still run.
   * @throws {ExecutionError} the lock could not be acquired (errors of `routine` pass through).
   */
  using<T>(
    resources: string[],
    duration: number,
    settings: Partial<Settings>,
    routine?: (signal: RedlockAbortSignal) => Promise<T>,
  ): Promise<T>;
  using<T>(
    resources: string[],
    duration: number,
    routine: (signal: RedlockAbortSignal) => Promise<T>,
  ): Promise<T>;
  async using<T>(
    resources: string[],
    duration: number,
    settingsOrRoutine: Partial<Settings> | ((signal: RedlockAbortSignal) => Promise<T>),
    optionalRoutine?: (signal: RedlockAbortSignal) => Promise<T>,
  ): Promise<T> {
    if (Math.floor(duration) !== duration) {
      throw new Error('Duration must be an integer value in milliseconds.');
    }
    const settings = typeof settingsOrRoutine === 'function' ? undefined : settingsOrRoutine;
    const routine = optionalRoutine ?? settingsOrRoutine;
    if (typeof routine !== 'function') {
      throw new TypeError(
        'Expected a routine: using(resources, duration, routine) or using(resources, duration, settings, routine)',
      );
    }
    const merged = this.callSettings(settings);
    if (merged.automaticExtensionThreshold > duration - 100) {
      throw new Error(
        'A lock `duration` must be at least 100ms greater than the `automaticExtensionThreshold` setting.',
      );
    }
    const log = this.attemptLog(resourceCount(resources));
    let running = false;
    try {
      return await this.native.using(
        resources,
        duration,
        (signal, lock) => {
          running = true;
          log.close();
          // The automatic extensions and the final release tell their votes against, as v5's.
          lockState(lock).onVotes = this.attemptLog(resourceCount(resources)).tell;
          return routine(this.routineSignal(signal, resourceCount(resources)));
        },
        {
          ...retryOptionsOf(merged),
          autoExtendThresholdMs: merged.automaticExtensionThreshold,
          [OBSERVE_VOTES]: log.observe,
        } as object,
      );
    } catch (error) {
      throw running ? error : executionError(error, log.attempts);
    } finally {
      log.close();
    }
  }

  /** `settings` over the instance's; a per-call `driftFactor` other than its own is refused. */
  private callSettings(settings: Partial<Settings> | undefined): Settings {
    const merged = mergeSettings(this.settings, settings, 'settings');
    if (merged.driftFactor !== this.settings.driftFactor) {
      throw new TypeError(
        `A per-call \`driftFactor\` is not supported: the engine applies the instance's ` +
          `(${this.settings.driftFactor}) to every lock. Set it in the constructor`,
      );
    }
    return merged;
  }

  /** A log of one operation's attempts on `resourceCount` resources. */
  private attemptLog(resourceCount: number): AttemptLog {
    return new AttemptLog(this.clientList, this.native.quorum, resourceCount, (error) =>
      this.emit('error', error),
    );
  }

  /** node-redlock's signal for a routine, following the engine's. */
  private routineSignal(native: AbortSignal, resourceCount: number): RedlockAbortSignal {
    const controller = new AbortController();
    const signal: RedlockAbortSignal = controller.signal;
    const abort = () => {
      const reason: unknown = native.reason;
      const votes = isLockError(reason) && 'votes' in reason ? reason.votes : undefined;
      const attempts = Array.isArray(votes)
        ? [Promise.resolve(statsOf(votes, this.clientList, this.native.quorum, resourceCount))]
        : [];
      const error = executionError(reason, attempts);
      signal.error = error instanceof Error ? error : new Error(String(error));
      controller.abort(signal.error);
    };
    if (native.aborted) abort();
    else native.addEventListener('abort', abort, { once: true });
    return signal;
  }
}

/** node-redlock's duration checks: an integer, which the nodes must be able to set. */
function assertDuration(duration: number): void {
  if (Math.floor(duration) !== duration) {
    throw new Error('Duration must be an integer value in milliseconds.');
  }
  if (duration <= 0) {
    // node-redlock sends it, the nodes refuse it on every attempt, and it fails as here.
    throw new ExecutionError(
      `A lock's duration must be at least 1 ms, got ${duration}: the nodes cannot set it.`,
      [],
    );
  }
}

function assertLock(lock: unknown): asserts lock is Lock {
  if (!(lock instanceof Lock)) {
    throw new TypeError("Expected a Lock returned by the compat Redlock's acquire()");
  }
}

/** How many resources were asked for (the engine checks them, and names what is wrong). */
function resourceCount(resources: unknown): number {
  return Array.isArray(resources) ? resources.length : 1;
}

/** The resources as a `Lock` keeps them: as given (a single string becomes a list). */
function resourceList(resources: string[] | string): string[] {
  return typeof resources === 'string' ? [resources] : resources;
}

/** One delay of node-redlock's: `retryDelay ± retryJitter`, never below 0. */
function retryDelayOf(settings: Settings): number {
  const jitter = Math.floor((Math.random() * 2 - 1) * settings.retryJitter);
  return Math.max(0, settings.retryDelay + jitter);
}

/**
 * node-redlock's `ExecutionError` for an engine error that means the operation could not win a
 * quorum (locked, too few nodes, lost); any other error (bad input, `quit()`, an abort) as is.
 */
function executionError(error: unknown, attempts: Promise<ExecutionStats>[]): unknown {
  if (
    isLockError(error, 'RESOURCE_LOCKED') ||
    isLockError(error, 'QUORUM_UNAVAILABLE') ||
    isLockError(error, 'LOCK_LOST')
  ) {
    return new ExecutionError(NO_QUORUM, attempts, { cause: error });
  }
  return error;
}
