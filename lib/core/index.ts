/**
 * The engine, without Nest or Express: `Redlock`, `Lock`, `FencedRedisStore`, the errors.
 *
 * @packageDocumentation
 * @module nestjs-redlock/core
 */
export * from './errors/index.js';
export { Lock } from './lock.js';
export type { AcquireOptions, RedlockOptions, RetryOptions, UsingOptions } from './options.js';
export { Redlock, type RedlockEvents } from './redlock.js';
export {
  parseRedisUrl,
  type EvictingNodes,
  type NodeProblem,
  type RedisNodeSpec,
} from './nodes/index.js';
export { FencedRedisStore } from './fenced-redis-store.js';
export { MAX_SEMAPHORE_LIMIT } from './semaphore-limit.js';
export type { NodeHealth, RedlockHealth } from './redlock-health.js';
export type { TelemetryResources } from './telemetry/resource-names.js';
export { RedlockWarning, type RedlockWarningCode } from './redlock-warning.js';
