/** Argument and option checks, the monotonic clock, and an abortable sleep. */
export * from './arguments.js';
export * from './known-options.js';
export * from './clock.js';
export { sleep } from './sleep.js';
export { namingWhere } from './naming-where.js';
