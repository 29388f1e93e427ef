import { ACQUIRE_OPTION_KEYS, type AcquireOptions } from '../core/options.js';
import { optionKeys } from '../core/util/known-options.js';
import { assertLockOptions, assertOneKeyToRead, readResource } from '../http/lock-options.js';
import { className, lockMethod, type LockKeys } from './locked-method.js';

export type { LockKeys } from './locked-method.js';

/** Options of `@WithLock()`. */
export interface WithLockOptions extends Omit<AcquireOptions, 'signal'> {
  /** The lock's ttl in milliseconds; it is extended while the method runs. Default: the module's `defaultTtlMs`. */
  ttlMs?: number;
  /**
   * When the lock is held elsewhere (after the retries): `'throw'` a `ResourceLockedError`, or
   * `'skip'` the call and resolve to `undefined`.
   * @default 'throw'
   */
  onLocked?: 'throw' | 'skip';
  /**
   * `'read'`: a read lock, shared with other readers of the resource (one resource, no
   * `fencing`); `'write'`: the exclusive lock. A `'write'` call nested in a `'read'` one on the
   * same resource fails at once with `LockUpgradeError`.
   * @default 'write'
   */
  mode?: 'read' | 'write';
}

/** Every key of {@link WithLockOptions}. */
const WITH_LOCK_OPTION_KEYS = optionKeys<WithLockOptions>()([
  ...ACQUIRE_OPTION_KEYS.filter((key): key is Exclude<typeof key, 'signal'> => key !== 'signal'),
  'ttlMs',
  'onLocked',
  'mode',
]);

/**
 * Runs the decorated method holding a distributed lock whose key is built from its arguments:
 * acquired before the call, extended while it runs, released after it (also when it throws).
 * The method's result and errors pass through unchanged; it always returns a promise.
 *
 * A placeholder names a parameter (`<id>`), a path into one (`<dto.customer.id>`), or a
 * position (`<0>`); several templates lock several resources, all or nothing. A template that
 * names no parameter fails when the class is defined. Reentrant: a call that needs only locks
 * its async context already holds runs at once. The class gets `RedlockService` injected, so
 * a module without access to `RedlockModule` fails at startup.
 *
 * @example
 * @Injectable()
 * export class OrdersService {
 *   @WithLock('order:<id>', { ttlMs: 5_000 })
 *   async charge(id: string, amount: number) {
 *     // only one instance of the service charges order `id` at a time
 *   }
 * }
 */
export function WithLock(keys: LockKeys, options: WithLockOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const where = `@WithLock on ${className(target)}.${String(propertyKey)}`;
    assertLockOptions(options, WITH_LOCK_OPTION_KEYS, where);
    const { ttlMs, onLocked = 'throw', mode = 'write', ...acquireOptions } = options;
    assertOneKeyToRead(keys, mode, where);
    return lockMethod(
      target,
      propertyKey,
      descriptor,
      keys,
      where,
      onLocked,
      (service, resources, call, traced) =>
        mode === 'read'
          ? service.usingRead(readResource(resources), ttlMs, call, {
              ...acquireOptions,
              ...traced,
            })
          : service.using(resources, ttlMs, call, { ...acquireOptions, ...traced }),
    );
  };
}
