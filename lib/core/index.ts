export * from './errors/index.js';
export { Lock } from './lock.js';
export {
  DEFAULT_REDLOCK_OPTIONS,
  type AcquireOptions,
  type RedlockOptions,
  type ResolvedRedlockOptions,
  type RetryOptions,
  type UsingOptions,
} from './options.js';
export { Redlock, type RedlockEvents } from './redlock.js';
export { parseRedisUrl, type RedisNodeSpec } from './nodes/redis-node.js';
export { MAX_RESOURCE_BYTES, MAX_TIMER_MS } from './util/arguments.js';
export { fencingCounterKey } from './scripts/fencing-counter-key.js';
export { FencedRedisStore, FENCE_SEEN_SUFFIX } from './fenced-redis-store.js';
export type { NodeHealth, RedlockHealth } from './redlock-health.js';
export type { NodeProblem } from './nodes/node-diagnosis.js';
export { RedlockWarning, type RedlockWarningCode } from './redlock-warning.js';
export type { EvictingNodes } from './nodes/eviction-watch.js';
