import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { assertBoolean } from '../core/util/arguments.js';
import { LockExceptionFilter } from './lock-exception.filter.js';
import { namingWhere } from './argument-error.js';
import type { RedisNodeSpec } from '../core/nodes/redis-node.js';
import { REDLOCK_MODULE_OPTIONS } from './redlock.constants.js';
import { assertKnownOptions } from '../core/util/known-options.js';
import {
  ASYNC_OPTION_KEYS,
  resolveModuleOptions,
  ROOT_OPTION_KEYS,
  type RedlockModuleAsyncOptions,
  type RedlockModuleRootOptions,
  type RedlockOptionsFactory,
} from './redlock-module-options.js';
import { RedlockService } from './redlock.service.js';

/**
 * Provides `RedlockService` (and so `@WithLock()`) over the given Redis nodes.
 *
 * @example
 * @Module({
 *   imports: [RedlockModule.forRoot(['redis://10.0.0.1', 'redis://10.0.0.2', 'redis://10.0.0.3'], { isGlobal: true })],
 * })
 * export class AppModule {}
 */
@Module({})
export class RedlockModule {
  /** The module over `nodes`, with `options`. */
  static forRoot(nodes: RedisNodeSpec[], options: RedlockModuleRootOptions = {}): DynamicModule {
    assertKnownOptions('RedlockModule.forRoot(nodes, options)', options, ROOT_OPTION_KEYS);
    const { isGlobal = false, exceptionFilter = true, ...moduleOptions } = options ?? {};
    return {
      module: RedlockModule,
      global: isGlobal,
      providers: [
        {
          provide: REDLOCK_MODULE_OPTIONS,
          useFactory: () => resolveModuleOptions({ ...moduleOptions, nodes }),
        },
        RedlockService,
        ...filterProviders('forRoot', exceptionFilter),
      ],
      exports: [RedlockService],
    };
  }

  /**
   * The module with options made at startup, e.g. from `ConfigService`:
   * `{ imports: [ConfigModule], inject: [ConfigService], useFactory: (config) => ({ nodes: ... }) }`,
   * or `useClass` / `useExisting` with a `RedlockOptionsFactory`.
   */
  static forRootAsync(options: RedlockModuleAsyncOptions): DynamicModule {
    assertKnownOptions('RedlockModule.forRootAsync(options)', options, ASYNC_OPTION_KEYS);
    const providers: Provider[] = [
      optionsProvider(options),
      RedlockService,
      ...filterProviders('forRootAsync', options.exceptionFilter ?? true),
    ];
    if (options.useClass) providers.push({ provide: options.useClass, useClass: options.useClass });
    return {
      module: RedlockModule,
      global: options.isGlobal ?? false,
      imports: options.imports ?? [],
      providers,
      exports: [RedlockService],
    };
  }
}

function filterProviders(entry: string, exceptionFilter: unknown): Provider[] {
  namingWhere(`RedlockModule.${entry}`, () => assertBoolean('exceptionFilter', exceptionFilter));
  return exceptionFilter ? [{ provide: APP_FILTER, useClass: LockExceptionFilter }] : [];
}

function optionsProvider(options: RedlockModuleAsyncOptions): Provider {
  if (options.useFactory) {
    const factory = options.useFactory;
    return {
      provide: REDLOCK_MODULE_OPTIONS,
      useFactory: async (...args: never[]) =>
        resolveModuleOptions(
          await factory(...args),
          "the options forRootAsync's useFactory returned",
        ),
      inject: options.inject ?? [],
    };
  }
  const factoryClass = options.useClass ?? options.useExisting;
  if (!factoryClass) {
    throw new TypeError(
      'RedlockModule.forRootAsync: give one of `useFactory`, `useClass` or `useExisting`',
    );
  }
  return {
    provide: REDLOCK_MODULE_OPTIONS,
    useFactory: async (factory: RedlockOptionsFactory) =>
      resolveModuleOptions(
        await factory.createRedlockOptions(),
        `what ${factoryClass.name}.createRedlockOptions() returned`,
      ),
    inject: [factoryClass],
  };
}
