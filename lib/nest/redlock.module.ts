import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { RedisNodeSpec } from '../core/redis-node.js';
import { REDLOCK_MODULE_OPTIONS } from './redlock.constants.js';
import {
  resolveModuleOptions,
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
    const { isGlobal = false, ...moduleOptions } = options ?? {};
    return {
      module: RedlockModule,
      global: isGlobal,
      providers: [
        {
          provide: REDLOCK_MODULE_OPTIONS,
          useFactory: () => resolveModuleOptions({ ...moduleOptions, nodes }),
        },
        RedlockService,
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
    const providers: Provider[] = [optionsProvider(options), RedlockService];
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

function optionsProvider(options: RedlockModuleAsyncOptions): Provider {
  if (options.useFactory) {
    const factory = options.useFactory;
    return {
      provide: REDLOCK_MODULE_OPTIONS,
      useFactory: async (...args: never[]) => resolveModuleOptions(await factory(...args)),
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
      resolveModuleOptions(await factory.createRedlockOptions()),
    inject: [factoryClass],
  };
}
