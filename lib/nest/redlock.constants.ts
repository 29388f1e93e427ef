/** Injection token of the resolved `RedlockModule` options. */
export const REDLOCK_MODULE_OPTIONS = Symbol('nestjs-redlock:module-options');

/**
 * The property under which `@WithLock()` has Nest inject `RedlockService` into the decorated
 * class (property injection: a missing module fails at startup, not at call time).
 */
export const REDLOCK_SERVICE_PROPERTY = Symbol('nestjs-redlock:service');

/** Metadata key of `@LockRoute()`, read by `LockInterceptor`. */
export const LOCK_ROUTE_METADATA = 'nestjs-redlock:lock-route';

/**
 * Set on a request by the `LockInterceptor` that holds its route's lock, so that a second one
 * bound to the same route (by `@LockRoute()` and globally, say) does not lock it again.
 */
export const LOCK_ROUTE_TAKEN = Symbol('nestjs-redlock:lock-route-taken');
