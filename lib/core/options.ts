import {
  assertAtMostTimer,
  assertBoolean,
  assertDuration,
  assertInteger,
  assertNonNegative,
  assertOptionsObject,
  assertSignal,
} from './util/arguments.js';
import type { EvictingNodes } from './nodes/eviction-watch.js';
import { TELEMETRY_RESOURCES, type TelemetryResources } from './telemetry/resource-names.js';
import { assertKnownOptions, optionKeys } from './util/known-options.js';

/** Retry settings, engine-wide in {@link RedlockOptions} and per call in {@link AcquireOptions}. */
export interface RetryOptions {
  /**
   * How many times to retry after the first attempt fails because the resource is held or too
   * few nodes answered. `0` fails at once; `-1` retries until `waitMs` runs out or `signal`
   * aborts.
   * @default 10
   */
  retryCount?: number;
  /**
   * Milliseconds to wait between attempts, before jitter. A waiter in a resource's queue is
   * handed the lock or woken by the nodes' notices; this is then its fallback: it attempts
   * again after this long without a notice (see the README's "Waiting for a lock").
   * @default 100
   */
  retryDelayMs?: number;
  /**
   * Up to this many milliseconds, chosen at random, are added to each delay, so that contending
   * clients do not retry in lockstep.
   * @default 100
   */
  retryJitterMs?: number;
  /**
   * The longest time to spend acquiring, retries included, in milliseconds. No attempt starts
   * after it has passed. `Infinity` leaves `retryCount` as the only bound.
   * @default Infinity
   */
  waitMs?: number;
}

/** Options of a `Redlock` instance. */
export interface RedlockOptions extends RetryOptions {
  /**
   * The share of a lock's ttl assumed lost to clock drift between the nodes; the validity of a
   * lock is `ttl − elapsed − (driftFactor · ttl + 2 ms)`. In [0, 0.5).
   * @default 0.01
   */
  driftFactor?: number;
  /**
   * How long one operation waits for the nodes to answer, in milliseconds. A node that has not
   * answered by then counts as failed, so a slow or blackholed node never holds an operation
   * hostage. Keep it small next to your ttls.
   * @default 250
   */
  nodeTimeoutMs?: number;
  /**
   * How many nodes must grant a lock. A majority is required for mutual exclusion, so it must
   * be more than half of the nodes.
   * @default Math.floor(nodes.length / 2) + 1
   */
  quorum?: number;
  /**
   * `using()` extends the lock when its remaining validity falls below this many milliseconds
   * (or below half its ttl, whichever is less).
   * @default 500
   */
  autoExtendThresholdMs?: number;
  /**
   * Give every lock a `fencingToken` that strictly increases per resource across all grants,
   * for the storage to check (see the README's "Correctness" section). It costs a second round
   * trip per acquisition and a counter key per resource (`<resource>:redlock:fence`, without
   * expiry). Can be set per call as well.
   * @default false
   */
  fencing?: boolean;
  /**
   * After a node restarts (its `run_id` changes), its votes for acquiring or extending do not
   * count for this many milliseconds from its start: a node restarted without its data may
   * have lost the keys of locks that are still valid, and could grant them again. Set it to at
   * least the longest ttl any client uses; `0` turns it off (for nodes that persist every write
   * with `appendfsync always`).
   * @default 60000
   */
  restartDelayMs?: number;
  /**
   * What to do with a node that may evict keys (`maxmemory` set with a `maxmemory-policy` other
   * than `noeviction`, as on many managed Redis offerings): a lock key evicted while held lets
   * a second holder in. `'refuse'`: its votes for acquiring or extending do not count
   * (`NodeMayEvictError`); `'warn'`: they count. A `NODE_MAY_EVICT` warning is emitted either
   * way. Read at each connection, and again by `health()` while the node may evict.
   * @default 'refuse'
   */
  evictingNodes?: EvictingNodes;
  /**
   * Report spans and metrics through OpenTelemetry when `@opentelemetry/api` is installed (an
   * optional peer; without an SDK registered, the API is a no-op). `false` turns them off for
   * this instance. See the README's "OpenTelemetry" section.
   * @default true
   */
  telemetry?: boolean;
  /**
   * How resource names appear in spans: `'prefix'` (`order:42` → `order:*`; a decorator's,
   * route's or middleware's key template as is), `'hash'` (the first 16 hex digits of SHA-256), or `'raw'`. Resource names
   * often carry user values, so they are not shown raw unless asked.
   * @default 'prefix'
   */
  telemetryResources?: TelemetryResources;
}

/** Options of one `acquire()` call; they override the instance's retry settings. */
export interface AcquireOptions extends RetryOptions {
  /** Gives up waiting when aborted: the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides {@link RedlockOptions.fencing} for this call. */
  fencing?: boolean;
}

/** Options of one `using()` call. */
export interface UsingOptions extends AcquireOptions {
  /** Overrides {@link RedlockOptions.autoExtendThresholdMs} for this call. */
  autoExtendThresholdMs?: number;
}

/** The defaults of every option, in one place. */
const DEFAULT_REDLOCK_OPTIONS = Object.freeze({
  /** {@link RedlockOptions.driftFactor} */
  driftFactor: 0.01,
  /** {@link RetryOptions.retryCount} */
  retryCount: 10,
  /** {@link RetryOptions.retryDelayMs} */
  retryDelayMs: 100,
  /** {@link RetryOptions.retryJitterMs} */
  retryJitterMs: 100,
  /** {@link RetryOptions.waitMs} */
  waitMs: Number.POSITIVE_INFINITY,
  /** {@link RedlockOptions.nodeTimeoutMs} */
  nodeTimeoutMs: 250,
  /** {@link RedlockOptions.autoExtendThresholdMs} */
  autoExtendThresholdMs: 500,
  /** {@link RedlockOptions.fencing} */
  fencing: false,
  /** {@link RedlockOptions.restartDelayMs} */
  restartDelayMs: 60_000,
  /** {@link RedlockOptions.evictingNodes} */
  evictingNodes: 'refuse' as EvictingNodes,
  /** {@link RedlockOptions.telemetry} */
  telemetry: true,
  /** {@link RedlockOptions.telemetryResources} */
  telemetryResources: 'prefix' as TelemetryResources,
});

const RETRY_OPTION_KEYS = ['retryCount', 'retryDelayMs', 'retryJitterMs', 'waitMs'] as const;

/** Every key of {@link RedlockOptions}; any other is rejected. */
export const REDLOCK_OPTION_KEYS = optionKeys<RedlockOptions>()([
  ...RETRY_OPTION_KEYS,
  'driftFactor',
  'nodeTimeoutMs',
  'quorum',
  'autoExtendThresholdMs',
  'fencing',
  'restartDelayMs',
  'evictingNodes',
  'telemetry',
  'telemetryResources',
]);

/** Every key of {@link AcquireOptions}. */
export const ACQUIRE_OPTION_KEYS = optionKeys<AcquireOptions>()([
  ...RETRY_OPTION_KEYS,
  'signal',
  'fencing',
]);

/** Every key of {@link UsingOptions}. */
export const USING_OPTION_KEYS = optionKeys<UsingOptions>()([
  ...ACQUIRE_OPTION_KEYS,
  'autoExtendThresholdMs',
]);

/** Options with every default filled in and checked. */
type ResolvedRedlockOptions = Readonly<Required<RedlockOptions>>;

/** Merges `options` over the defaults and checks every field; `nodeCount` sizes the quorum. */
export function resolveRedlockOptions(
  options: RedlockOptions | undefined,
  nodeCount: number,
): ResolvedRedlockOptions {
  assertOptionsObject('options', options);
  assertKnownOptions('options', options, REDLOCK_OPTION_KEYS);
  const resolved = {
    ...DEFAULT_REDLOCK_OPTIONS,
    quorum: Math.floor(nodeCount / 2) + 1,
    ...withoutUndefined(options ?? {}),
  };
  if (
    typeof resolved.driftFactor !== 'number' ||
    !(resolved.driftFactor >= 0 && resolved.driftFactor < 0.5)
  ) {
    throw new RangeError(
      `Expected \`driftFactor\` to be a number in [0, 0.5), got ${String(resolved.driftFactor)}`,
    );
  }
  assertRetryOptions(resolved, '');
  assertInteger('nodeTimeoutMs', resolved.nodeTimeoutMs, 1);
  assertAtMostTimer('nodeTimeoutMs', resolved.nodeTimeoutMs);
  assertNonNegative('autoExtendThresholdMs', resolved.autoExtendThresholdMs);
  assertBoolean('fencing', resolved.fencing);
  assertInteger('restartDelayMs', resolved.restartDelayMs, 0);
  if (resolved.evictingNodes !== 'refuse' && resolved.evictingNodes !== 'warn') {
    throw new TypeError(
      `Expected \`evictingNodes\` to be 'refuse' or 'warn', got ${JSON.stringify(resolved.evictingNodes)}`,
    );
  }
  assertBoolean('telemetry', resolved.telemetry);
  if (!TELEMETRY_RESOURCES.includes(resolved.telemetryResources)) {
    throw new TypeError(
      `Expected \`telemetryResources\` to be ${TELEMETRY_RESOURCES.map((v) => `'${v}'`).join(', ')}, got ${JSON.stringify(resolved.telemetryResources)}`,
    );
  }
  assertInteger('quorum', resolved.quorum, 1);
  if (resolved.quorum <= nodeCount / 2 || resolved.quorum > nodeCount) {
    throw new RangeError(
      `Expected \`quorum\` to be a majority of the ${nodeCount} nodes ` +
        `(${Math.floor(nodeCount / 2) + 1} to ${nodeCount}), got ${resolved.quorum}`,
    );
  }
  return Object.freeze(resolved);
}

/**
 * Checks the per-call options of `acquire()` / `using()` (and of the decorators and middleware
 * that pass them on): `known` lists the keys the entry point takes; any other is an error.
 */
export function assertAcquireOptions(
  options: UsingOptions | undefined,
  known: readonly string[] = USING_OPTION_KEYS,
  name = 'options',
): void {
  assertOptionsObject(name, options);
  if (!options) return;
  assertKnownOptions(name, options, known);
  assertRetryOptions(options, 'options.');
  assertSignal('options.signal', options.signal);
  if (options.fencing !== undefined) assertBoolean('options.fencing', options.fencing);
  if (options.autoExtendThresholdMs !== undefined) {
    assertNonNegative('options.autoExtendThresholdMs', options.autoExtendThresholdMs);
  }
}

function assertRetryOptions(options: RetryOptions, prefix: string): void {
  if (options.retryCount !== undefined)
    assertInteger(`${prefix}retryCount`, options.retryCount, -1);
  if (options.retryDelayMs !== undefined) {
    assertNonNegative(`${prefix}retryDelayMs`, options.retryDelayMs);
    assertAtMostTimer(`${prefix}retryDelayMs`, options.retryDelayMs);
  }
  if (options.retryJitterMs !== undefined) {
    assertNonNegative(`${prefix}retryJitterMs`, options.retryJitterMs);
    assertAtMostTimer(`${prefix}retryJitterMs`, options.retryJitterMs);
  }
  if (options.waitMs !== undefined) assertDuration(`${prefix}waitMs`, options.waitMs);
}

/** Drops keys whose value is `undefined`, so that they do not hide a default. */
export function withoutUndefined<T extends object>(options: T): T {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as T;
}
