import type { LoggerService, ModuleMetadata, Type } from '@nestjs/common';
import { assertTtl } from '../core/util/arguments.js';
import { namingWhere } from './argument-error.js';
import { REDLOCK_OPTION_KEYS, type RedlockOptions } from '../core/options.js';
import { assertKnownOptions, optionKeys } from '../core/util/known-options.js';
import type { RedisNodeSpec } from '../core/nodes/redis-node.js';
import { assertLockHttpOptions, type LockHttpOptions } from '../http/lock-error-response.js';

/** Options of `RedlockModule`: the nodes, the engine's options, and the module's own. */
export interface RedlockModuleOptions extends RedlockOptions, LockHttpOptions {
  /** The independent Redis nodes: URLs, ioredis options, or ioredis instances (yours to close). */
  nodes: RedisNodeSpec[];
  /**
   * The ttl of a lock when a call does not give one, in milliseconds.
   * @default 10000
   */
  defaultTtlMs?: number;
  /**
   * Prepended to every resource name, e.g. `'lock:'`.
   * @default ''
   */
  keyPrefix?: string;
  /**
   * Where lost locks and node errors are reported; `false` for nowhere.
   * @default new Logger('Redlock')
   */
  logger?: LoggerService | false;
}

/** What `forRoot()` and `forRootAsync()` take besides the options proper: how to register. */
export interface RedlockModuleRegistration {
  /**
   * Register the module globally, so that every module can inject `RedlockService`.
   * @default false
   */
  isGlobal?: boolean;
  /**
   * Bind `LockExceptionFilter` globally, so that lock errors thrown anywhere in an HTTP
   * request (by `@WithLock` in a service, say) answer 423/503/400 rather than 500. `false`
   * leaves the binding to you.
   * @default true
   */
  exceptionFilter?: boolean;
}

/** What `forRoot()` takes besides the nodes. */
export interface RedlockModuleRootOptions
  extends Omit<RedlockModuleOptions, 'nodes'>, RedlockModuleRegistration {}

/** A class that makes the module options, for `forRootAsync({ useClass })`. */
export interface RedlockOptionsFactory {
  /** Makes the module's options (nodes included), at startup. */
  createRedlockOptions(): RedlockModuleOptions | Promise<RedlockModuleOptions>;
}

/** Options of `RedlockModule.forRootAsync()`. */
export interface RedlockModuleAsyncOptions
  extends Pick<ModuleMetadata, 'imports'>, RedlockModuleRegistration {
  /** Makes the options from the injected `inject` providers. */
  useFactory?: (...args: never[]) => RedlockModuleOptions | Promise<RedlockModuleOptions>;
  /** Providers passed to `useFactory`. */
  inject?: (string | symbol | Type | (abstract new (...args: never[]) => unknown))[];
  /** A class, instantiated by the module, that makes the options. */
  useClass?: Type<RedlockOptionsFactory>;
  /** An existing provider that makes the options. */
  useExisting?: Type<RedlockOptionsFactory>;
}

/** Every key of {@link RedlockModuleOptions}; any other is rejected at startup. */
export const MODULE_OPTION_KEYS = optionKeys<RedlockModuleOptions>()([
  ...REDLOCK_OPTION_KEYS,
  'unavailableStatus',
  'nodes',
  'defaultTtlMs',
  'keyPrefix',
  'logger',
]);

/** Every key of {@link RedlockModuleRootOptions}. */
export const ROOT_OPTION_KEYS = optionKeys<RedlockModuleRootOptions>()([
  ...MODULE_OPTION_KEYS.filter((key): key is Exclude<typeof key, 'nodes'> => key !== 'nodes'),
  'isGlobal',
  'exceptionFilter',
]);

/** Every key of {@link RedlockModuleAsyncOptions}. */
export const ASYNC_OPTION_KEYS = optionKeys<RedlockModuleAsyncOptions>()([
  'imports',
  'isGlobal',
  'exceptionFilter',
  'useFactory',
  'inject',
  'useClass',
  'useExisting',
]);

/** The module options with the module's own defaults filled in. */
export interface ResolvedRedlockModuleOptions extends RedlockModuleOptions {
  defaultTtlMs: number;
  keyPrefix: string;
}

/**
 * Fills in the module's defaults and checks its own options and their keys (the engine checks
 * the rest). `source` names where they came from, for the error.
 */
export function resolveModuleOptions(
  options: RedlockModuleOptions,
  source = 'RedlockModule options',
): ResolvedRedlockModuleOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`RedlockModule: expected ${source} to be an object with \`nodes\``);
  }
  namingWhere('RedlockModule', () => assertKnownOptions(source, options, MODULE_OPTION_KEYS));
  const { defaultTtlMs = 10_000, keyPrefix = '' } = options;
  namingWhere('RedlockModule', () => {
    assertTtl('defaultTtlMs', defaultTtlMs);
    assertLockHttpOptions(options);
  });
  if (typeof keyPrefix !== 'string') {
    throw new TypeError(
      `RedlockModule: expected \`keyPrefix\` to be a string, got ${typeof keyPrefix}`,
    );
  }
  return { ...options, defaultTtlMs, keyPrefix };
}
