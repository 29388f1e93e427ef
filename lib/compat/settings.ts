import type { RedlockOptions, RetryOptions } from '../core/options.js';
import {
  assertAtMostTimer,
  assertInteger,
  assertNonNegative,
  assertOptionsObject,
} from '../core/util/arguments.js';
import { assertKnownOptions, optionKeys } from '../core/util/known-options.js';

/** node-redlock v5's settings, in its names and units (milliseconds). */
export interface Settings {
  /**
   * The share of a lock's duration assumed lost to clock drift (plus 2 ms).
   * @default 0.01
   */
  readonly driftFactor: number;
  /**
   * Retries after the first attempt; `-1` retries without end.
   * @default 10
   */
  readonly retryCount: number;
  /**
   * Milliseconds between attempts (a waiter is also woken by the holder's release).
   * @default 200
   */
  readonly retryDelay: number;
  /**
   * Up to this many milliseconds are added to or taken from each delay, at random.
   * @default 100
   */
  readonly retryJitter: number;
  /**
   * `using()` extends the lock when fewer than this many milliseconds of it are left.
   * @default 500
   */
  readonly automaticExtensionThreshold: number;
}

/**
 * Settings of this engine that node-redlock lacks, which the compat `Redlock` also takes
 * (see the native {@link RedlockOptions} for each): how long a node may take to answer, how
 * long a restarted node's votes do not count, what to do with a node that may evict keys, and
 * how many nodes make a quorum.
 */
export type EngineSettings = Pick<
  RedlockOptions,
  'nodeTimeoutMs' | 'restartDelayMs' | 'evictingNodes' | 'quorum'
>;

/** node-redlock v5's defaults. */
export const DEFAULT_SETTINGS: Settings = Object.freeze({
  driftFactor: 0.01,
  retryCount: 10,
  retryDelay: 200,
  retryJitter: 100,
  automaticExtensionThreshold: 500,
});

/** Every key of {@link Settings}. */
export const SETTINGS_KEYS = optionKeys<Settings>()([
  'driftFactor',
  'retryCount',
  'retryDelay',
  'retryJitter',
  'automaticExtensionThreshold',
]);

/** Every key the compat constructor takes: node-redlock's, and the engine's extras. */
export const CONSTRUCTOR_KEYS = [
  ...SETTINGS_KEYS,
  ...optionKeys<EngineSettings>()(['nodeTimeoutMs', 'restartDelayMs', 'evictingNodes', 'quorum']),
];

/**
 * `settings` over `base`, each value checked. node-redlock falls back to its default for a
 * value that is not a number, and ignores a key it does not know; both are errors here, since
 * either would silently leave a default in place.
 */
export function mergeSettings(
  base: Settings,
  settings: Partial<Settings> | undefined,
  name: string,
  known: readonly string[] = SETTINGS_KEYS,
): Settings {
  assertOptionsObject(name, settings);
  if (settings === undefined) return base;
  assertKnownOptions(name, settings, known);
  const merged = { ...base };
  for (const key of SETTINGS_KEYS) {
    if (settings[key] !== undefined) merged[key] = settings[key];
  }
  const { driftFactor, retryCount, retryDelay, retryJitter, automaticExtensionThreshold } = merged;
  if (typeof driftFactor !== 'number' || !(driftFactor >= 0 && driftFactor < 0.5)) {
    throw new RangeError(
      `Expected \`${name}.driftFactor\` to be a number in [0, 0.5), got ${String(driftFactor)}`,
    );
  }
  assertInteger(`${name}.retryCount`, retryCount, -1);
  for (const [key, value] of [
    ['retryDelay', retryDelay],
    ['retryJitter', retryJitter],
  ] as const) {
    assertNonNegative(`${name}.${key}`, value);
    assertAtMostTimer(`${name}.${key}`, value);
  }
  assertNonNegative(`${name}.automaticExtensionThreshold`, automaticExtensionThreshold);
  return Object.freeze(merged);
}

/**
 * The engine's retry options for node-redlock's: a delay of `retryDelay ± retryJitter` (never
 * below 0) is `retryDelayMs` at its low end plus up to `retryJitterMs` of jitter.
 */
export function retryOptionsOf(settings: Settings): RetryOptions {
  const low = Math.max(0, settings.retryDelay - settings.retryJitter);
  return {
    retryCount: settings.retryCount,
    retryDelayMs: low,
    retryJitterMs: settings.retryDelay + settings.retryJitter - low,
  };
}
