import type {
  ConfigurableModuleAsyncOptions,
  ConfigurableModuleOptionsFactory,
  LoggerService,
} from '@nestjs/common';
import { assertTtl } from '../core/util/arguments.js';
import { namingWhere } from '../core/util/naming-where.js';
import { REDLOCK_OPTION_KEYS, type RedlockOptions } from '../core/options.js';
import { assertKnownOptions, optionKeys } from '../core/util/known-options.js';
import type { RedisNodeSpec } from '../core/nodes/redis-node.js';
import { assertLockHttpOptions, type LockHttpOptions } from '../http/lock-error-response.js';
import { DEFAULT_TTL_MS, DEFAULT_UNAVAILABLE_STATUS } from '../http/lock-defaults.js';

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

/** What `forRoot()` takes: the nodes, every engine and module option, and the registration. */
export interface RedlockModuleRootOptions extends RedlockModuleOptions, RedlockModuleRegistration {}

/**
 * What `forRootAsync()` takes: Nest's `useFactory` / `useClass` / `useExisting`, `inject` and
 * `imports`, making {@link RedlockModuleOptions}, and the registration.
 */
export type RedlockModuleAsyncOptions = ConfigurableModuleAsyncOptions<
  RedlockModuleOptions,
  'createRedlockOptions'
> &
  RedlockModuleRegistration;

/** A class that makes the module options, for `forRootAsync({ useClass })`. */
export type RedlockOptionsFactory = ConfigurableModuleOptionsFactory<
  RedlockModuleOptions,
  'createRedlockOptions'
>;

/** Every key of {@link RedlockModuleOptions}; any other is rejected at startup. */
export const MODULE_OPTION_KEYS = optionKeys<RedlockModuleOptions>()([
  ...REDLOCK_OPTION_KEYS,
  'unavailableStatus',
  'nodes',
  'defaultTtlMs',
  'keyPrefix',
  'logger',
]);

/** The keys `forRoot()` takes besides the options: how to register the module. */
export const REGISTRATION_KEYS = optionKeys<RedlockModuleRegistration>()([
  'isGlobal',
  'exceptionFilter',
]);

/** The module options with the module's own defaults filled in (internal). */
export interface ResolvedRedlockModuleOptions extends RedlockModuleOptions {
  defaultTtlMs: number;
  keyPrefix: string;
  unavailableStatus: 423 | 503;
}

/**
 * Fills in the module's defaults and checks its own options and their keys (the engine checks
 * the rest). `source` names where they came from, for the error.
 */
export function resolveModuleOptions(
  options: RedlockModuleOptions,
  source = 'the RedlockModule options',
): ResolvedRedlockModuleOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`RedlockModule: expected ${source} to be an object with \`nodes\``);
  }
  namingWhere('RedlockModule', () => assertKnownOptions(source, options, MODULE_OPTION_KEYS));
  const {
    defaultTtlMs = DEFAULT_TTL_MS,
    keyPrefix = '',
    unavailableStatus = DEFAULT_UNAVAILABLE_STATUS,
  } = options;
  namingWhere('RedlockModule', () => {
    assertTtl('defaultTtlMs', defaultTtlMs);
    assertLockHttpOptions(options);
  });
  if (typeof keyPrefix !== 'string') {
    throw new TypeError(
      `RedlockModule: expected \`keyPrefix\` to be a string, got ${typeof keyPrefix}`,
    );
  }
  return { ...options, defaultTtlMs, keyPrefix, unavailableStatus };
}
