/** Injection token of the resolved `RedlockModule` options. */
export const REDLOCK_MODULE_OPTIONS = Symbol('nestjs-redlock:module-options');

/**
 * The property under which `@WithLock()` has Nest inject `RedlockService` into the decorated
 * class (property injection: a missing module fails at startup, not at call time).
 */
export const REDLOCK_SERVICE_PROPERTY = Symbol('nestjs-redlock:service');
