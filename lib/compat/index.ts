/**
 * node-redlock v5's API on this package's engine: change `from 'redlock'` to
 * `from 'nestjs-redlock/compat'`. See `docs/migrating-from-node-redlock.md` for what differs,
 * and how each call reads in the native API.
 *
 * @packageDocumentation
 * @module nestjs-redlock/compat
 */
import { Redlock } from './redlock.js';

export { Redlock, type RedlockAbortSignal } from './redlock.js';
export { Lock } from './lock.js';
export { ResourceLockedError } from './resource-locked.error.js';
export { ExecutionError } from './execution.error.js';
export type {
  Client,
  ClientExecutionResult,
  ExecutionResult,
  ExecutionStats,
} from './execution-stats.js';
export type { EngineSettings, Settings } from './settings.js';
export default Redlock;
