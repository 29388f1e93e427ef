import { assertAcquireOptions, type AcquireOptions } from '../core/options.js';
import { assertTtl } from '../core/util/arguments.js';
import { namingWhere } from '../core/util/naming-where.js';
import { assertLockHttpOptions, type LockHttpOptions } from './lock-error-response.js';

/** What `@WithLock`, `@LockRoute` and `lockMiddleware` take in common. */
export interface LockOptions extends Omit<AcquireOptions, 'signal'>, LockHttpOptions {
  /** The lock's ttl in milliseconds. */
  ttlMs?: number;
  /** `'read'` (shared with other readers, one resource) or `'write'` (exclusive, the default). */
  mode?: 'read' | 'write';
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
  });
}

/** A read lock is on one resource: `keys` must be one template (or a function of the request). */
export function assertOneKeyToRead(keys: unknown, mode: unknown, where: string): void {
  if (mode === 'read' && typeof keys !== 'string' && typeof keys !== 'function') {
    throw new TypeError(`${where}: a read lock is on one resource: give one key template`);
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
