export type { HeldLock } from './lock-context.js';
export {
  type RedlockModuleAsyncOptions,
  type RedlockModuleOptions,
  type RedlockModuleRegistration,
  type RedlockModuleRootOptions,
  type RedlockOptionsFactory,
} from './redlock-module-options.js';
export { RedlockModule } from './redlock.module.js';
export { RedlockService } from './redlock.service.js';
export { WithLock, type LockKeys, type WithLockOptions } from './with-lock.decorator.js';
export {
  WithSemaphore,
  type SemaphoreKey,
  type WithSemaphoreOptions,
} from './with-semaphore.decorator.js';
export { LockInterceptor } from './lock.interceptor.js';
export { LockExceptionFilter } from './lock-exception.filter.js';
export { LockRoute, type LockRouteOptions } from './lock-route.decorator.js';
