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
export { parseRedisUrl, type RedisNodeSpec } from './redis-node.js';
export { MAX_RESOURCE_BYTES, MAX_TIMER_MS } from './arguments.js';
export { fencingCounterKey } from './fencing-counter-key.js';
export { FencedRedisStore, FENCE_SEEN_SUFFIX } from './fenced-redis-store.js';
export type { NodeHealth, RedlockHealth } from './redlock-health.js';
export type { NodeProblem } from './node-diagnosis.js';
export { RedlockWarning, type RedlockWarningCode } from './redlock-warning.js';
export type { EvictingNodes } from './eviction-watch.js';
