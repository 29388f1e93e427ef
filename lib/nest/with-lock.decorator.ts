import { Inject } from '@nestjs/common';
import { ACQUIRE_OPTION_KEYS, type AcquireOptions } from '../core/options.js';
import { optionKeys } from '../core/util/known-options.js';
import { assertLockOptions, assertOneKeyToRead, readResource } from '../http/lock-options.js';
import { isLockError } from '../core/errors/index.js';
import { compileKeyTemplate } from '../keys/key-template.js';
import { parameterNames } from '../keys/parameter-names.js';
import { keyResolver } from '../keys/key-resolver.js';
import { namingWhere } from '../core/util/naming-where.js';
import { REDLOCK_SERVICE_PROPERTY } from './redlock.constants.js';
import { RedlockService } from './redlock.service.js';

/** What `@WithLock()` locks: templates over the method's arguments, or a function of them. */
export type LockKeys =
  string | readonly string[] | ((...args: never[]) => string | readonly string[]);

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
    const original = descriptor.value as unknown;
    if (typeof original !== 'function') {
      throw new TypeError(`${where}: can only decorate a method`);
    }
    const resolveKeys = argumentKeyResolver(keys, original as (...args: never[]) => unknown, where);
    checkOptions(options, where);
    const { ttlMs, onLocked = 'throw', mode = 'write', ...acquireOptions } = options;
    assertOneKeyToRead(keys, mode, where);

    Inject(RedlockService)(target, REDLOCK_SERVICE_PROPERTY);
    const wrapped = async function (this: Record<symbol, unknown>, ...args: unknown[]) {
      const service = this?.[REDLOCK_SERVICE_PROPERTY] as RedlockService | undefined;
      // By shape, not by class: a test double given with `useValue` works too.
      if (typeof service?.using !== 'function') {
        throw new Error(
          `${where}: RedlockService was not injected. Create the class through Nest, in a ` +
            'module that imports RedlockModule (or register RedlockModule with isGlobal).',
        );
      }
      const resources = resolveKeys(args);
      const call = () => (original as (...a: unknown[]) => unknown).apply(this, args);
      try {
        return mode === 'read'
          ? await service.usingRead(readResource(resources), ttlMs, call, acquireOptions)
          : await service.using(resources, ttlMs, call, acquireOptions);
      } catch (error) {
        if (onLocked === 'skip' && isLockError(error, 'RESOURCE_LOCKED')) return undefined;
        throw error;
      }
    };
    keepIdentity(wrapped, original as (...args: unknown[]) => unknown);
    descriptor.value = wrapped as never;
    return descriptor;
  };
}

/** The method's keys from its arguments: templates over its parameters, or a function. */
function argumentKeyResolver(
  keys: LockKeys,
  method: (...args: never[]) => unknown,
  where: string,
): (args: unknown[]) => string | readonly string[] {
  const names = parameterNames(method);
  const spec =
    typeof keys === 'function'
      ? (args: unknown[]) => (keys as (...a: unknown[]) => string | readonly string[])(...args)
      : keys;
  return keyResolver<unknown[]>(
    spec,
    (template) => compileKeyTemplate(template, names, where),
    where,
  );
}

function checkOptions(options: WithLockOptions, where: string): void {
  assertLockOptions(options, WITH_LOCK_OPTION_KEYS, where);
  namingWhere(where, () => {
    if (
      options.onLocked !== undefined &&
      options.onLocked !== 'throw' &&
      options.onLocked !== 'skip'
    ) {
      throw new TypeError(
        `Expected \`onLocked\` to be 'throw' or 'skip', got ${String(options.onLocked)}`,
      );
    }
  });
}

/** The wrapper keeps the method's name and every metadata set on it (routes, guards, Swagger). */
function keepIdentity(
  wrapped: (...args: unknown[]) => unknown,
  original: (...args: unknown[]) => unknown,
): void {
  Object.defineProperty(wrapped, 'name', { value: original.name, configurable: true });
  const reflect = Reflect as unknown as {
    getMetadataKeys?: (target: object) => unknown[];
    getMetadata: (key: unknown, target: object) => unknown;
    defineMetadata: (key: unknown, value: unknown, target: object) => void;
  };
  for (const key of reflect.getMetadataKeys?.(original) ?? []) {
    reflect.defineMetadata(key, reflect.getMetadata(key, original), wrapped);
  }
}

function className(target: object): string {
  return typeof target === 'function' ? target.name : target.constructor.name;
}
