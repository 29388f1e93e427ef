import { ACQUIRE_OPTION_KEYS, type AcquireOptions } from '../core/options.js';
import { optionKeys } from '../core/util/known-options.js';
import { namingWhere } from '../core/util/naming-where.js';
import { assertSemaphoreLimit } from '../core/semaphore-limit.js';
import { assertLockOptions, readResource } from '../http/lock-options.js';
import { className, lockMethod } from './locked-method.js';

/** What `@WithSemaphore()` takes a permit of: one key template, or a function of the arguments. */
export type SemaphoreKey = string | ((...args: never[]) => string);

/** Options of `@WithSemaphore()`. */
export interface WithSemaphoreOptions extends Omit<AcquireOptions, 'signal' | 'fencing'> {
  /** How many calls may hold a permit at once, across every instance (1 to 1000). */
  limit: number;
  /** The permit's ttl in milliseconds; it is extended while the method runs. Default: the module's `defaultTtlMs`. */
  ttlMs?: number;
  /**
   * When every permit is held (after the retries): `'throw'` a `ResourceLockedError` (its
   * `limit` set), or `'skip'` the call and resolve to `undefined`.
   * @default 'throw'
   */
  onLocked?: 'throw' | 'skip';
}

/** Every key of {@link WithSemaphoreOptions}. */
const WITH_SEMAPHORE_OPTION_KEYS = optionKeys<WithSemaphoreOptions>()([
  ...ACQUIRE_OPTION_KEYS.filter(
    (key): key is Exclude<typeof key, 'signal' | 'fencing'> =>
      key !== 'signal' && key !== 'fencing',
  ),
  'limit',
  'ttlMs',
  'onLocked',
]);

/**
 * Runs the decorated method holding a permit of a distributed semaphore whose key is built
 * from its arguments, as `@WithLock` does with a lock: at most `limit` calls hold one at once,
 * across every instance; the rest wait in arrival order (per the retry options) or are
 * refused. Reentrant: a call whose async context holds a permit of the same semaphore runs at
 * once. Every use of a key must give the same `limit`; bad options fail when the class is
 * defined.
 *
 * @example
 * @Injectable()
 * export class ExportsService {
 *   // At most 3 exports per tenant at once; the 4th waits up to 30 s for a permit.
 *   @WithSemaphore('exports:<tenantId>', { limit: 3, ttlMs: 60_000, retryCount: -1, waitMs: 30_000 })
 *   async export(tenantId: string) {}
 * }
 */
export function WithSemaphore(key: SemaphoreKey, options: WithSemaphoreOptions): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const where = `@WithSemaphore on ${className(target)}.${String(propertyKey)}`;
    if (typeof key !== 'string' && typeof key !== 'function') {
      throw new TypeError(`${where}: a semaphore is one key: give one key template`);
    }
    checkOptions(options, where);
    const { limit, ttlMs, onLocked = 'throw', ...acquireOptions } = options;
    return lockMethod(
      target,
      propertyKey,
      descriptor,
      key,
      where,
      onLocked,
      (service, resources, call, traced) =>
        service.usingSemaphore(readResource(resources), limit, ttlMs, call, {
          ...acquireOptions,
          ...traced,
        }),
    );
  };
}

function checkOptions(options: WithSemaphoreOptions, where: string): void {
  namingWhere(where, () => {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('Expected options with `limit`, e.g. { limit: 3 }');
    }
    assertSemaphoreLimit(options.limit);
  });
  assertLockOptions(options, WITH_SEMAPHORE_OPTION_KEYS, where);
}
