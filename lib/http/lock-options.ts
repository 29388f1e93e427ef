import { assertAcquireOptions, type AcquireOptions } from '../core/options.js';
import { assertTtl } from '../core/util/arguments.js';
import { namingWhere } from '../core/util/naming-where.js';
import { assertSemaphoreLimit } from '../core/semaphore-limit.js';
import { assertLockHttpOptions, type LockHttpOptions } from './lock-error-response.js';

/** What `@WithLock`, `@LockRoute` and `lockMiddleware` take in common. */
export interface LockOptions extends Omit<AcquireOptions, 'signal'>, LockHttpOptions {
  /** The lock's ttl in milliseconds. */
  ttlMs?: number;
  /** `'read'` (shared with other readers, one resource) or `'write'` (exclusive, the default). */
  mode?: 'read' | 'write';
  /** A permit of a semaphore of this many (one key, no `mode`, no `fencing`) instead of a lock. */
  limit?: number;
}

/**
 * The one check of the lock options that `@WithLock`, `@LockRoute` and `lockMiddleware` share:
 * only the `known` keys, the retry options and `fencing`, `ttlMs`, `unavailableStatus`, `mode`
 * (and no `fencing` with `'read'`). Errors
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
    if (options.mode !== undefined && options.mode !== 'read' && options.mode !== 'write') {
      throw new TypeError(`Expected \`mode\` to be 'read' or 'write', got ${String(options.mode)}`);
    }
    if (options.mode === 'read' && options.fencing === true) {
      throw new TypeError(
        "Expected no `fencing` with mode 'read': readers get no fencing token (they do not write)",
      );
    }
    if (options.limit !== undefined) {
      assertSemaphoreLimit(options.limit);
      if (options.mode !== undefined) {
        throw new TypeError(
          'Expected no `mode` with `limit`: `limit` asks for a permit of a semaphore, not a lock',
        );
      }
      if (options.fencing === true) {
        throw new TypeError(
          'Expected no `fencing` with `limit`: semaphore permits get no fencing token',
        );
      }
    }
  });
}

/**
 * A read lock, and a semaphore (`limit` given), are on one resource: `keys` must be one
 * template (or a function of the request).
 */
export function assertOneKeyToRead(
  keys: unknown,
  mode: unknown,
  where: string,
  limit?: unknown,
): void {
  if (typeof keys === 'string' || typeof keys === 'function') return;
  if (mode === 'read') {
    throw new TypeError(`${where}: a read lock is on one resource: give one key template`);
  }
  if (limit !== undefined) {
    throw new TypeError(`${where}: a semaphore is one key: give one key template`);
  }
}

/**
 * The one resource a read lock is asked for, from resolved keys (a template resolves to a list
 * of one). Several are passed on as they are, for the engine to refuse by name.
 */
export function readResource(resources: string | readonly string[]): string {
  if (typeof resources !== 'string' && resources.length === 1) return resources[0];
  return resources as string;
}
