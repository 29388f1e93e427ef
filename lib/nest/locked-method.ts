import { Inject } from '@nestjs/common';
import { isLockError } from '../core/errors/index.js';
import { compileKeyTemplate } from '../keys/key-template.js';
import { parameterNames } from '../keys/parameter-names.js';
import { keyResolver } from '../keys/key-resolver.js';
import { REDLOCK_SERVICE_PROPERTY } from './redlock.constants.js';
import { keyTemplates, TRACE_AS, type TracedOptions } from '../core/telemetry/trace-labels.js';
import { RedlockService } from './redlock.service.js';

/** What `@WithLock()` locks: templates over the method's arguments, or a function of them. */
export type LockKeys =
  string | readonly string[] | ((...args: never[]) => string | readonly string[]);

/**
 * Wraps the method of `descriptor` so that each call runs inside `hold` (the service's
 * `using`, `usingRead` or `usingSemaphore`) with the resources its arguments name, and has
 * `RedlockService` injected into the class (internal: `@WithLock`, `@WithSemaphore`). With
 * `onLocked: 'skip'`, a call refused because the resource is held resolves to `undefined`.
 * `hold` gets the options that name the acquisition in traces (`Class.method`, and the key
 * templates) to pass on.
 */
export function lockMethod(
  target: object,
  propertyKey: string | symbol,
  descriptor: PropertyDescriptor,
  keys: LockKeys,
  where: string,
  onLocked: 'throw' | 'skip',
  hold: (
    service: RedlockService,
    resources: string | readonly string[],
    call: () => unknown,
    traced: TracedOptions,
  ) => Promise<unknown>,
): PropertyDescriptor {
  if (onLocked !== 'throw' && onLocked !== 'skip') {
    throw new TypeError(
      `${where}: Expected \`onLocked\` to be 'throw' or 'skip', got ${String(onLocked)}`,
    );
  }
  const original = descriptor.value as unknown;
  if (typeof original !== 'function') {
    throw new TypeError(`${where}: can only decorate a method`);
  }
  const resolveKeys = argumentKeyResolver(keys, original as (...args: never[]) => unknown, where);
  Inject(RedlockService)(target, REDLOCK_SERVICE_PROPERTY);
  const traced: TracedOptions = {
    [TRACE_AS]: {
      operation: `${className(target)}.${String(propertyKey)}`,
      templates: keyTemplates(keys),
    },
  };
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
      return await hold(service, resources, call, traced);
    } catch (error) {
      if (onLocked === 'skip' && isLockError(error, 'RESOURCE_LOCKED')) return undefined;
      throw error;
    }
  };
  keepIdentity(wrapped, original as (...args: unknown[]) => unknown);
  descriptor.value = wrapped as never;
  return descriptor;
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

/** The decorated class's name, for messages. */
export function className(target: object): string {
  return typeof target === 'function' ? target.name : target.constructor.name;
}
