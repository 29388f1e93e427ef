import { assertAcquireOptions, type AcquireOptions } from '../core/options.js';
import { assertTtl } from '../core/util/arguments.js';
import { namingWhere } from '../core/util/naming-where.js';
import { assertLockHttpOptions, type LockHttpOptions } from './lock-error-response.js';

/** What `@WithLock`, `@LockRoute` and `lockMiddleware` take in common. */
export interface LockOptions extends Omit<AcquireOptions, 'signal'>, LockHttpOptions {
  /** The lock's ttl in milliseconds. */
  ttlMs?: number;
}

/**
 * The one check of the lock options that `@WithLock`, `@LockRoute` and `lockMiddleware` share:
 * only the `known` keys, the retry options and `fencing`, `ttlMs`, `unavailableStatus`. Errors
 * name `where` (the decorator on its method, or the middleware), before any request.
 */
export function assertLockOptions(
  options: LockOptions,
  known: readonly string[],
  where: string,
): void {
  namingWhere(where, () => {
    assertAcquireOptions(options as AcquireOptions, known);
    if (options.ttlMs !== undefined) assertTtl('ttlMs', options.ttlMs);
    assertLockHttpOptions(options);
  });
}
