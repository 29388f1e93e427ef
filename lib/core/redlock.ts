import { EventEmitter, setMaxListeners } from 'node:events';
import {
  acquireWithRetries,
  type AcquisitionContext,
  isReaderValue,
  newLockValue,
  NodeClocks,
  releaseCall,
} from './acquire/index.js';
import {
  hashSlot,
  collectVotes,
  type Tally,
  connectionOptionsOf,
  RedisNode,
  type RedisNodeSpec,
  assertDistinctNodes,
  VoteDeadlines,
} from './nodes/index.js';
import {
  fencingCounterKey,
  EXTEND_SCRIPT,
  READ_EXTEND_SCRIPT,
  queueKeys,
  readKeys,
  SEMAPHORE_EXTEND_SCRIPT,
  type LuaScript,
} from './scripts/index.js';
import { assertTtl, toResourceList, monotonicNow, validUntil } from './util/index.js';
import { assertSemaphoreLimit } from './semaphore-limit.js';
import {
  CrossSlotError,
  LockLostError,
  QuorumUnavailableError,
  RedlockClosedError,
} from './errors/index.js';
import { Lock, lockState } from './lock.js';
import { LockKeeper } from './lock-keeper.js';
import {
  ACQUIRE_OPTION_KEYS,
  assertAcquireOptions,
  resolveRedlockOptions,
  USING_OPTION_KEYS,
  withoutUndefined,
  type AcquireOptions,
  type RedlockOptions,
  type UsingOptions,
} from './options.js';
import type { RedlockHealth } from './redlock-health.js';
import type { RedlockWarning } from './redlock-warning.js';
import { OBSERVE_VOTES, type ObservedOptions, type VotesObserver } from './votes-observer.js';
import {
  extendOutcomeOf,
  loadOtelApi,
  LockTelemetry,
  otelApi,
  TRACE_AS,
  guarded,
  type OperationTrace,
  type TracedOptions,
} from './telemetry/index.js';
import type { OtelApi } from './telemetry/otel-api.js';

/** The events a `Redlock` emits. None is required: nobody listening never crashes anything. */
export interface RedlockEvents {
  /** A lock was granted by a quorum. */
  acquired: [lock: Lock];
  /** A lock was released; `held` tells whether a quorum still held it. */
  released: [lock: Lock, held: boolean];
  /** A lock's ttl was renewed on a quorum. */
  extended: [lock: Lock];
  /** A lock can no longer be guaranteed: it expired, or a quorum no longer holds it. */
  lost: [lock: Lock, error: LockLostError];
  /** A node failed a command or its connection failed; the operation may still succeed. */
  nodeError: [error: Error, node: string];
  /**
   * A connection the engine opened failed: once when it goes down, with the error (a refused
   * password, a refused connection, a TLS failure), and again only if the cause changes; not
   * once per reconnection attempt. Log it where people look.
   */
  nodeDown: [node: string, error: Error];
  /** A node reported by `nodeDown` is connected and usable again. */
  nodeUp: [node: string];
  /**
   * A node restarted (its `run_id` changed); its votes do not count for `uncountedForMs`
   * (see `restartDelayMs`).
   */
  nodeRestarted: [node: string, uncountedForMs: number];
  /**
   * Something in a node's set-up weakens the lock (see `RedlockWarning` and its `code`). With
   * no listener, it goes to `process.emitWarning`, so it is never silent.
   */
  warning: [warning: RedlockWarning];
}

/**
 * The Redlock algorithm over N independent Redis nodes: a lock is granted when a majority of
 * them grant it within its validity, and it expires by itself if its holder dies.
 *
 * @example
 * const redlock = new Redlock(['redis://10.0.0.1:6379', 'redis://10.0.0.2:6379', 'redis://10.0.0.3:6379']);
 * await redlock.using('report:daily', 10_000, async (signal) => {
 *   await buildReport({ signal }); // signal aborts if the lock is lost
 * });
 * await redlock.quit();
 */
export class Redlock extends EventEmitter<RedlockEvents> {
  /** The resolved options, defaults filled in. */
  readonly options: Readonly<Required<RedlockOptions>>;
  private readonly nodes: readonly RedisNode[];
  private readonly hasCluster: boolean;
  private readonly heldLocks = new Set<Lock>();
  /**
   * The locks `using()` routines hold, with what ends each hold: the routine settled and the
   * lock released. `quit()` waits for them rather than releasing under a running routine.
   */
  private readonly routines = new Map<Lock, { keeper: LockKeeper; done: Promise<void> }>();
  private readonly closing = new AbortController();
  /** What an acquisition needs of this instance. */
  private readonly acquisitions: AcquisitionContext;
  /** Acquisitions under way; `quit()` lets them clean up before closing the connections. */
  private readonly pending = new Set<Promise<unknown>>();
  private closed: Promise<void> | undefined;
  /** The deadlines of the votes under way, on one timer. */
  private readonly deadlines = new VoteDeadlines();
  /**
   * Spans and metrics: `null` when off or `@opentelemetry/api` is absent, `undefined` until the
   * API has loaded (see `telemetryReady`).
   */
  private telemetry: LockTelemetry | null | undefined;
  /** Settles once `telemetry` is known. */
  private readonly telemetryReady: Promise<LockTelemetry | null>;

  /**
   * @param nodes the independent Redis nodes (URLs, ioredis options, or ioredis instances).
   * @param options see {@link RedlockOptions}.
   */
  constructor(nodes: readonly RedisNodeSpec[], options?: RedlockOptions) {
    super();
    // Every waiting acquire listens on it; many may wait at once.
    setMaxListeners(0, this.closing.signal);
    if (!Array.isArray(nodes) || nodes.length === 0) {
      throw new TypeError('Expected `nodes` to be a non-empty array of Redis nodes');
    }
    this.options = resolveRedlockOptions(options, nodes.length);
    // Validate every spec before opening any connection, so a bad one leaks nothing.
    assertDistinctNodes(nodes.map((spec, index) => connectionOptionsOf(spec, index)));
    this.nodes = nodes.map((spec, index) =>
      RedisNode.from(spec, index, {
        onError: (error, node) => this.emitNodeError(error, node),
        stallAfterMs: this.options.nodeTimeoutMs,
        restartDelayMs: this.options.restartDelayMs,
        onRestart: (node, uncountedForMs) => this.emit('nodeRestarted', node, uncountedForMs),
        onWarning: (warning) => this.emitWarning(warning),
        evictingNodes: this.options.evictingNodes,
        onDown: (node, error) => this.emit('nodeDown', node, error),
        onUp: (node) => this.emit('nodeUp', node),
      }),
    );
    this.hasCluster = this.nodes.some((node) => node.isCluster);
    this.acquisitions = {
      owner: this,
      quorum: this.options.quorum,
      nodeCount: this.nodes.length,
      driftFactor: this.options.driftFactor,
      clocks: new NodeClocks(this.nodes.length, this.options.quorum),
      nodes: this.nodes,
      usesQueues: !this.hasCluster,
      inbox: newLockValue(),
      closing: this.closing.signal,
      vote: <Reply>(
        script: LuaScript,
        keys: readonly string[],
        args: readonly (string | number)[],
        isYes: (reply: Reply, index: number) => boolean,
      ) => this.vote<Reply>(script, keys, args, isYes),
      releaseEverywhere: async ({ script, keys, args }) => {
        await this.vote(script, keys, args, () => true, true);
      },
      releaseInBackground: ({ script, keys, args }) => {
        // A vote never rejects; `quit()` waits for it among the pending operations.
        const release = this.vote(script, keys, args, () => true, true);
        this.pending.add(release);
        void release.finally(() => this.pending.delete(release));
      },
    };
    this.telemetryReady = this.startTelemetry();
  }

  /** Sets up spans and metrics once `@opentelemetry/api` has loaded, if it is installed. */
  private startTelemetry(): Promise<LockTelemetry | null> {
    if (!this.options.telemetry) {
      this.telemetry = null;
      return Promise.resolve(null);
    }
    const start = (api: OtelApi | null) => {
      // A meter provider that throws leaves the engine without telemetry, never broken.
      const made =
        api && !this.closing.signal.aborted
          ? guarded(
              () =>
                new LockTelemetry(
                  api,
                  this.options.telemetryResources,
                  () => this.nodes.filter((node) => node.connected).length,
                ),
            )
          : undefined;
      this.telemetry = made ?? null;
      return this.telemetry;
    };
    const api = otelApi();
    return api === undefined ? loadOtelApi().then(start) : Promise.resolve(start(api));
  }

  /** How many nodes must agree for a lock to be granted, extended or released. */
  get quorum(): number {
    return this.options.quorum;
  }

  /**
   * Acquires a lock on `resources` (all of them or none) for `ttlMs`, retrying while they are
   * held, per the retry options.
   * @throws {ResourceLockedError} another holder has them and the retries ran out.
   * @throws {QuorumUnavailableError} too few nodes answered.
   * @throws {CrossSlotError} several resources in different slots of a Redis Cluster node.
   */
  acquire(
    resources: string | readonly string[],
    ttlMs: number,
    options?: AcquireOptions,
  ): Promise<Lock> {
    return this.acquireChecked(resources, ttlMs, options, ACQUIRE_OPTION_KEYS);
  }

  /**
   * Acquires a read lock on `resource`: shared with other readers, exclusive of writers (a
   * writer is any other lock on the resource: `acquireWrite()`, or `acquire()`). Waiters are
   * served in arrival order, so a waiting writer is not overtaken by readers that come after
   * it; readers that wait together behind a writer are let in together. A read lock has no
   * fencing token (`fencing: true` is refused; the instance's default is ignored). Needs
   * standalone nodes (not a Redis Cluster node).
   * @throws {ResourceLockedError} a writer holds or waits ahead, and the retries ran out.
   * @throws {QuorumUnavailableError} too few nodes answered.
   */
  acquireRead(resource: string, ttlMs: number, options?: AcquireOptions): Promise<Lock> {
    return this.acquireChecked(resource, ttlMs, options, ACQUIRE_OPTION_KEYS, true);
  }

  /**
   * Acquires a write lock on `resources`: the same exclusive lock as {@link acquire}, named for
   * code that also takes read locks. Its fencing tokens (`fencing: true`) are the resource's
   * mutex tokens.
   */
  acquireWrite(
    resources: string | readonly string[],
    ttlMs: number,
    options?: AcquireOptions,
  ): Promise<Lock> {
    return this.acquireChecked(resources, ttlMs, options, ACQUIRE_OPTION_KEYS);
  }

  /**
   * Acquires a permit of the semaphore `key`: at most `limit` holders at once across every
   * instance, on the same guarantee as a lock (each permit is one of `limit` slots, and each
   * slot a Redlock mutex: `docs/correctness.md`). Waiters are served in arrival order and woken
   * by releases. The permit is a {@link Lock} (`mode` `'permit'`, `slot` its slot): release,
   * extend and `signal` work as for a lock. Every user of `key` must give the same `limit`,
   * and no other kind of lock may use `key`. No fencing token (`fencing: true` is refused).
   * Needs standalone nodes (not a Redis Cluster node).
   * @throws {ResourceLockedError} all `limit` permits are held (or kept for waiters ahead),
   * and the retries ran out.
   * @throws {LockKindMismatchError} a node holds `key` as a mutex, read locks, or a semaphore
   * with another limit.
   * @throws {QuorumUnavailableError} too few nodes answered.
   *
   * @example
   * // At most 3 report exports per tenant at once, across all instances.
   * const permit = await redlock.acquireSemaphore(`exports:${tenantId}`, 3, 60_000);
   */
  acquireSemaphore(
    key: string,
    limit: number,
    ttlMs: number,
    options?: AcquireOptions,
  ): Promise<Lock> {
    return this.acquireChecked(key, ttlMs, options, ACQUIRE_OPTION_KEYS, false, { limit });
  }

  /**
   * {@link using} with a semaphore permit (see {@link acquireSemaphore}): extended while
   * `routine` runs, released when it settles.
   *
   * @example
   * // At most 10 calls to the partner's API at once, across every instance.
   * const quote = await redlock.usingSemaphore('partner-api', 10, 5_000, (signal) =>
   *   partner.getQuote(order, { signal }),
   * );
   */
  async usingSemaphore<T>(
    key: string,
    limit: number,
    ttlMs: number,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T>,
    options?: UsingOptions,
  ): Promise<T> {
    assertRoutine(routine);
    const lock = await this.acquireChecked(key, ttlMs, options, USING_OPTION_KEYS, false, {
      limit,
    });
    return this.runHolding(lock, ttlMs, routine, options);
  }

  private async acquireChecked(
    resources: string | readonly string[],
    ttlMs: number,
    options: UsingOptions | undefined,
    knownOptions: readonly string[],
    reads = false,
    semaphore?: { limit: unknown },
  ): Promise<Lock> {
    if (reads) this.assertReadable(resources, options);
    if (semaphore) this.assertSemaphore(resources, semaphore.limit, options);
    const permits = semaphore?.limit as number | undefined;
    const keys = toResourceList(resources);
    assertTtl('ttlMs', ttlMs);
    assertAcquireOptions(options, knownOptions);
    // Only until `@opentelemetry/api` has loaded (or was found absent), right after start; so
    // before the checks of the engine's state below, which must hold when the attempt starts.
    const telemetry = this.telemetry === undefined ? await this.telemetryReady : this.telemetry;
    this.assertOpen();
    const merged = options ? { ...this.options, ...withoutUndefined(options) } : this.options;
    const { retryCount, retryDelayMs, retryJitterMs, waitMs } = merged;
    const fencing = merged.fencing && !reads && permits === undefined;
    this.assertOneSlot(fencing ? [...keys, ...keys.map(fencingCounterKey)] : keys, fencing);
    const signal = options?.signal;
    signal?.throwIfAborted();
    const trace = telemetry?.acquisition(
      keys,
      permits !== undefined ? 'permit' : reads ? 'read' : 'write',
      (options as TracedOptions | undefined)?.[TRACE_AS],
    );
    const acquisition = acquireWithRetries(this.acquisitions, keys, {
      ttlMs,
      retryCount,
      retryDelayMs,
      retryJitterMs,
      waitMs,
      fencing,
      reads,
      permits,
      signal,
      onVotes: bothObservers(
        (options as ObservedOptions | undefined)?.[OBSERVE_VOTES],
        trace?.observer,
      ),
      progress: trace?.progress,
    });
    this.pending.add(acquisition);
    let lock: Lock;
    try {
      lock = await acquisition;
    } catch (error) {
      trace?.failed(error, signal?.aborted === true || this.closing.signal.aborted);
      throw error;
    } finally {
      this.pending.delete(acquisition);
    }
    if (signal?.aborted || this.closing.signal.aborted) {
      await this.release(lock);
      const reason: unknown = signal?.aborted ? signal.reason : new RedlockClosedError();
      trace?.failed(reason, true);
      throw reason;
    }
    if (trace) {
      trace.acquired(lock);
      lockState(lock).grantedAt = monotonicNow();
    }
    this.heldLocks.add(lock);
    this.emit('acquired', lock);
    return lock;
  }

  /**
   * Releases `lock` on every node (compare-and-delete: a key another holder has since taken is
   * left alone). Never throws for an expired or lost lock: resolves to whether a quorum still
   * held it, and emits `lost` if not.
   */
  release(lock: Lock): Promise<boolean> {
    return this.releaseObserved(lock, undefined);
  }

  /**
   * @internal {@link release}, telling `onVotes` (else the lock's own observer) the votes: for
   * the compat module, whose release reports them.
   */
  async releaseObserved(lock: Lock, onVotes: VotesObserver | undefined): Promise<boolean> {
    const state = this.stateOf(lock);
    if (state.status === 'released') return false;
    const wasHeld = state.status === 'held';
    state.status = 'released';
    this.heldLocks.delete(lock);
    const trace = this.telemetry?.operation('release', lock);
    // With queues, the release hands each key to its first waiter and announces it; a holder
    // that waited leaves the queues too (a node may not have handed it the key yet).
    const { script, keys, args } = releaseCall(
      this.acquisitions.usesQueues,
      lock.resources,
      lock.value,
      state.queueMember,
      state.permit,
    );
    const tally = await this.vote(
      script,
      keys,
      args,
      (deleted) => deleted === lock.resources.length,
      false,
      undefined,
      state.acquiringSince,
    );
    (onVotes ?? state.onVotes)?.(tally.votes());
    const held = tally.yes >= this.quorum;
    if (state.grantedAt !== undefined) this.telemetry?.held(lock, state.grantedAt);
    trace?.nodeFailures(tally.failures);
    trace?.released(held);
    if (!held && wasHeld) {
      this.telemetry?.lost(lock);
      this.emit(
        'lost',
        lock,
        new LockLostError(lock.resources, 'a quorum no longer held it at release'),
      );
    }
    this.emit('released', lock, held);
    return held;
  }

  /**
   * Renews `lock` for `ttlMs` from now on a quorum of nodes (compare-and-pexpire), and resolves
   * to the same lock with its new validity.
   * @throws {LockLostError} the lock had expired or is no longer held by a quorum.
   * @throws {QuorumUnavailableError} too few nodes answered; the lock may still be held until
   * its current validity runs out.
   */
  async extend(lock: Lock, ttlMs: number): Promise<Lock> {
    // node-redlock's extend takes settings; here they would be ignored without a word.
    // eslint-disable-next-line prefer-rest-params
    if (arguments.length > 2 && arguments[2] !== undefined) {
      throw new TypeError(
        'Expected `extend(lock, ttlMs)` without options: an extension is one attempt, bounded ' +
          'by `nodeTimeoutMs`; retry settings belong to acquire()',
      );
    }
    return this.extendObserved(lock, ttlMs, undefined);
  }

  /**
   * @internal {@link extend} without the check of a third argument, telling `onVotes` (else the
   * lock's own observer) the votes: for the compat module, whose extensions report them.
   */
  async extendObserved(
    lock: Lock,
    ttlMs: number,
    onVotes: VotesObserver | undefined,
  ): Promise<Lock> {
    const state = this.stateOf(lock);
    assertTtl('ttlMs', ttlMs);
    this.assertOpen();
    const trace = this.telemetry?.operation('extend', lock);
    try {
      const extended = await this.extendHeld(lock, state, ttlMs, trace, onVotes ?? state.onVotes);
      trace?.extended('extended');
      return extended;
    } catch (error) {
      trace?.extended(extendOutcomeOf(error), error);
      throw error;
    }
  }

  /** {@link extend}, its arguments checked. */
  private async extendHeld(
    lock: Lock,
    state: ReturnType<typeof lockState>,
    ttlMs: number,
    trace: OperationTrace | undefined,
    onVotes: VotesObserver | undefined,
  ): Promise<Lock> {
    if (lock.validityMs <= 0) {
      const error = new LockLostError(
        lock.resources,
        state.status === 'released' ? 'it was released' : 'it expired before it was extended',
      );
      this.emitLost(lock, error);
      throw error;
    }
    const startedAt = monotonicNow();
    // The extension re-creates missing keys: a late resend of it (the NOSCRIPT fallback) must
    // not land after a release, so it is sent only while the lock is still held.
    const { script, keys, args } = extendCall(lock, ttlMs);
    const tally = await this.vote(
      script,
      keys,
      args,
      (r) => r === 1,
      false,
      () => state.status === 'held',
    );
    onVotes?.(tally.votes());
    trace?.nodeFailures(tally.failures);
    const expiresAt = validUntil(startedAt, ttlMs, this.options.driftFactor);
    const decidedAt = monotonicNow();
    // The extension re-creates missing keys: one decided after the lock's validity ran out
    // may have re-created keys that lapsed, and another holder may have come and gone in
    // between. The lock was not held throughout, so it is lost, whatever the nodes answered.
    if (state.status === 'held' && state.expiresAt <= decidedAt) {
      const error = new LockLostError(
        lock.resources,
        'it expired while the extension was on its way',
      );
      this.emitLost(lock, error);
      throw error;
    }
    if (tally.yes >= this.quorum && expiresAt > decidedAt && state.status === 'held') {
      state.expiresAt = expiresAt;
      state.onValidityChanged?.();
      this.emit('extended', lock);
      return lock;
    }
    // A failed extension may still have landed, now or later, on the nodes that did not
    // answer in time: with a shorter ttl, it shortened the keys there. The lock is only as
    // valid as the shorter of the two.
    if (expiresAt < state.expiresAt) {
      state.expiresAt = expiresAt;
      state.onValidityChanged?.();
    }
    if (tally.failures.length > this.nodes.length - this.quorum) {
      throw new QuorumUnavailableError(
        'extend',
        lock.resources,
        this.quorum,
        tally.failures,
        1,
        undefined,
        tally.votes(),
      );
    }
    const error = new LockLostError(
      lock.resources,
      'a quorum of nodes no longer holds it',
      tally.votes(),
    );
    this.emitLost(lock, error);
    throw error;
  }

  /**
   * Acquires `resources`, runs `routine`, and releases them when it settles (also when it
   * throws), extending the lock meanwhile. `signal` aborts, with a `LockLostError` as its
   * reason, the moment the lock can no longer be guaranteed: stop writing then.
   *
   * `options.signal` stops the wait for the lock. Aborted once the routine runs, it aborts the
   * routine's `signal` with the same reason and stops extending the lock, which stays held
   * until the routine settles (or lapses after its validity, if the routine outlives it): the
   * lock is never released while the routine may still run.
   *
   * @example
   * const total = await redlock.using(['account:1', 'account:2'], 5_000, async (signal, lock) => {
   *   const a = await debit(1, 100, { signal });
   *   return credit(2, 100, { signal });
   * });
   */
  async using<T>(
    resources: string | readonly string[],
    ttlMs: number,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T>,
    options?: UsingOptions,
  ): Promise<T> {
    assertRoutine(routine);
    const lock = await this.acquireChecked(resources, ttlMs, options, USING_OPTION_KEYS);
    return this.runHolding(lock, ttlMs, routine, options);
  }

  /**
   * {@link using} with a read lock on `resource` (see {@link acquireRead}): shared with other
   * readers, extended while `routine` runs, released when it settles.
   *
   * @example
   * const doc = await redlock.usingRead(`doc:${id}`, 5_000, (signal) => documents.load(id, { signal }));
   */
  async usingRead<T>(
    resource: string,
    ttlMs: number,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T>,
    options?: UsingOptions,
  ): Promise<T> {
    assertRoutine(routine);
    const lock = await this.acquireChecked(resource, ttlMs, options, USING_OPTION_KEYS, true);
    return this.runHolding(lock, ttlMs, routine, options);
  }

  /** {@link using} with a write lock (see {@link acquireWrite}), named for code that also reads. */
  usingWrite<T>(
    resources: string | readonly string[],
    ttlMs: number,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T>,
    options?: UsingOptions,
  ): Promise<T> {
    return this.using(resources, ttlMs, routine, options);
  }

  /** Runs `routine` under `lock`, extending it meanwhile, and releases it when it settles. */
  private async runHolding<T>(
    lock: Lock,
    ttlMs: number,
    routine: (signal: AbortSignal, lock: Lock) => Promise<T>,
    options: UsingOptions | undefined,
  ): Promise<T> {
    const threshold = Math.min(
      options?.autoExtendThresholdMs ?? this.options.autoExtendThresholdMs,
      Math.floor(ttlMs / 2),
    );
    const keeper = new LockKeeper(this, lock, ttlMs, threshold, this.options.retryDelayMs);
    const state = lockState(lock);
    state.onLost = (error) => keeper.abort(error);
    state.onValidityChanged = () => keeper.validityChanged();
    let markDone!: () => void;
    const done = new Promise<void>((resolve) => (markDone = resolve));
    this.routines.set(lock, { keeper, done });
    // Aborted while the routine runs: the routine is told (its signal aborts with the same
    // reason) and the lock is no longer extended, but it is held until the routine settles or
    // its validity runs out. Releasing it now could let another holder in beside a routine
    // that has not stopped yet.
    const signal = options?.signal;
    const giveUp = () => keeper.giveUp(signal?.reason);
    signal?.addEventListener('abort', giveUp, { once: true });
    if (signal?.aborted) giveUp(); // aborted between the acquire's check and here
    try {
      return await routine(keeper.signal, lock);
    } finally {
      signal?.removeEventListener('abort', giveUp);
      await keeper.stop();
      await this.release(lock);
      this.routines.delete(lock);
      markDone();
    }
  }

  /**
   * Checks every node with PING (each within `nodeTimeoutMs`), for health endpoints: which
   * nodes are up, and whether a quorum of them is. Never rejects.
   *
   * @example
   * const { quorumReachable, nodes } = await redlock.health();
   */
  async health(): Promise<RedlockHealth> {
    const nodes = await Promise.all(
      this.nodes.map((node) => node.health(this.options.nodeTimeoutMs)),
    );
    const up = nodes.filter((node) => node.up).length;
    return { quorumReachable: up >= this.quorum, quorum: this.quorum, up, nodes };
  }

  /**
   * Closes the instance: pending acquisitions reject with `RedlockClosedError`; running
   * `using()` routines have their signal aborted with it and their locks no longer extended,
   * and are waited for (each until it settles and its lock is released, or until its lock's
   * validity runs out); locks from `acquire()` still held are released. Then it closes the
   * connections this instance opened (instances you passed in stay open) and stops every
   * timer. Safe to call more than once.
   */
  quit(): Promise<void> {
    this.closed ??= (async () => {
      const closedError = new RedlockClosedError();
      this.closing.abort(closedError);
      // A routine may still be running: its lock is not released under it (see `using()`).
      const routines = [...this.routines.values()];
      for (const { keeper } of routines) keeper.giveUp(closedError);
      await Promise.allSettled([
        ...[...this.heldLocks]
          .filter((lock) => !this.routines.has(lock))
          .map((lock) => this.release(lock)),
        ...routines.map(({ keeper, done }) => Promise.race([done, keeper.ended])),
        // Aborted acquisitions leave their queues and release what they were handed.
        ...this.pending,
      ]);
      await Promise.allSettled(this.nodes.map((node) => node.close()));
      this.deadlines.stop();
      (await this.telemetryReady)?.close();
    })();
    return this.closed;
  }

  /** @internal Marks a lock lost (once) and tells the listeners. */
  markLost(lock: Lock, error: LockLostError): void {
    this.emitLost(lock, error);
  }

  private vote<Reply = number>(
    script: LuaScript,
    keys: readonly string[],
    args: readonly (string | number)[],
    isYes: (reply: Reply, index: number) => boolean,
    settleAll = false,
    wanted?: () => boolean,
    holdsSince?: number,
  ): Promise<Tally<Reply>> {
    return collectVotes({
      nodes: this.nodes,
      quorum: this.quorum,
      timeoutMs: this.options.nodeTimeoutMs,
      send: (node, stillWanted) =>
        node.run<Reply>(
          script,
          keys,
          args,
          wanted ? () => stillWanted() && wanted() : stillWanted,
          holdsSince,
        ),
      isYes,
      settleAll,
      veto: script.takesHold ? (node) => node.uncountedReason() : undefined,
      onFailure: (error, node) => this.emitNodeError(error, node.label),
      deadlines: this.deadlines,
    });
  }

  private stateOf(lock: Lock) {
    if (!(lock instanceof Lock)) {
      throw new TypeError('Expected `lock` to be a Lock returned by acquire()');
    }
    return lockState(lock);
  }

  private emitLost(lock: Lock, error: LockLostError): void {
    const state = lockState(lock);
    if (state.status !== 'held') return;
    state.status = 'lost';
    this.heldLocks.delete(lock);
    this.telemetry?.lost(lock);
    state.onLost?.(error);
    this.emit('lost', lock, error);
  }

  private emitWarning(warning: RedlockWarning): void {
    if (this.listenerCount('warning') > 0) this.emit('warning', warning);
    else process.emitWarning(warning.message, { type: warning.name, code: warning.code });
  }

  private emitNodeError(error: Error, node: string): void {
    if (this.listenerCount('nodeError') > 0) this.emit('nodeError', error, node);
  }

  /** A semaphore is one key, with a limit in range, without fencing, on standalone nodes. */
  private assertSemaphore(key: unknown, limit: unknown, options: AcquireOptions | undefined) {
    if (typeof key !== 'string') {
      throw new TypeError(
        `Expected \`key\` of a semaphore to be one key name (a string), got ${
          Array.isArray(key) ? 'an array' : typeof key
        }`,
      );
    }
    assertSemaphoreLimit(limit);
    if ((options as { fencing?: unknown } | undefined)?.fencing === true) {
      throw new TypeError(
        'Expected no `fencing` for a semaphore permit: permits get no fencing token (several ' +
          'holders share the semaphore); take a lock with `fencing: true` around the write ' +
          'that the storage must check',
      );
    }
    if (this.hasCluster) {
      throw new TypeError(
        'Semaphores need standalone Redis nodes: a Redis Cluster node keeps no wait queues, ' +
          "and a semaphore's slots are named by its scripts",
      );
    }
  }

  /** A read lock is on one resource, without fencing, on nodes that keep wait queues. */
  private assertReadable(resource: unknown, options: AcquireOptions | undefined): void {
    if (typeof resource !== 'string') {
      throw new TypeError(
        `Expected \`resource\` of a read lock to be one resource name (a string), got ${
          Array.isArray(resource) ? 'an array' : typeof resource
        }: read locks are taken on one resource at a time`,
      );
    }
    if ((options as { fencing?: unknown } | undefined)?.fencing === true) {
      throw new TypeError(
        'Expected no `fencing` for a read lock: readers get no fencing token (they do not ' +
          'write); take the write lock with `fencing: true` where the storage checks tokens',
      );
    }
    if (this.hasCluster) {
      throw new TypeError(
        'Read locks need standalone Redis nodes: a Redis Cluster node keeps no wait queues, ' +
          'which read locks are built on',
      );
    }
  }

  private assertOpen(): void {
    if (this.closing.signal.aborted) throw new RedlockClosedError();
  }

  private assertOneSlot(keys: readonly string[], fencing: boolean): void {
    if (!this.hasCluster || keys.length < 2) return;
    for (const node of this.nodes.filter((candidate) => candidate.isCluster)) {
      const slot = hashSlot(node.keyPrefix + keys[0]);
      if (keys.some((key) => hashSlot(node.keyPrefix + key) !== slot)) {
        throw new CrossSlotError(fencing ? keys.slice(0, keys.length / 2) : keys, fencing);
      }
    }
  }
}

/** The extension of `lock` to `ttlMs`: a mutex's, a reader's, or a permit's. */
function extendCall(lock: Lock, ttlMs: number) {
  const { permit, queueMember } = lockState(lock);
  if (permit) {
    return {
      script: SEMAPHORE_EXTEND_SCRIPT,
      keys: queueKeys([lock.resources[0]]),
      args: [lock.value, ttlMs, permit.limit, permit.slot, queueMember ?? ''],
    };
  }
  const reads = isReaderValue(lock.value);
  return {
    script: reads ? READ_EXTEND_SCRIPT : EXTEND_SCRIPT,
    keys: reads ? readKeys(lock.resources[0]) : lock.resources,
    args: [lock.value, ttlMs],
  };
}

function assertRoutine(routine: unknown): void {
  if (typeof routine !== 'function') {
    throw new TypeError(`Expected \`routine\` to be a function, got ${typeof routine}`);
  }
}

/** One observer telling both `a` and `b` (either may be absent). */
function bothObservers(
  a: VotesObserver | undefined,
  b: VotesObserver | undefined,
): VotesObserver | undefined {
  if (!a || !b) return a ?? b;
  return (votes, attempt) => {
    a(votes, attempt);
    b(votes, attempt);
  };
}
