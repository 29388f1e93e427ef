import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Redlock } from '../core/redlock.js';
import { assertBoolean } from '../core/util/arguments.js';
import { assertKnownOptions } from '../core/util/known-options.js';
import { namingWhere } from '../core/util/naming-where.js';
import { REDLOCK_MODULE_OPTIONS } from './redlock.constants.js';
import {
  ConfigurableRedlockModule,
  REDLOCK_ASYNC_OPTIONS_TYPE,
  REDLOCK_ROOT_OPTIONS_TYPE,
} from './redlock.module-definition.js';
import {
  MODULE_OPTION_KEYS,
  REGISTRATION_KEYS,
  type RedlockModuleAsyncOptions,
  type RedlockModuleRootOptions,
} from './redlock-module-options.js';
import { REDLOCK_PROVIDERS } from './redlock.providers.js';
import { RedlockService } from './redlock.service.js';

/** The keys `forRootAsync` takes of its own (Nest's, for making the options). */
const ASYNC_KEYS = ['imports', 'inject', 'useFactory', 'useClass', 'useExisting'];

/**
 * Provides `RedlockService` (and so `@WithLock()`), and the engine itself as `Redlock`, over
 * the given Redis nodes. Built with Nest's `ConfigurableModuleBuilder`: `forRoot(options)` and
 * `forRootAsync({ useFactory | useClass | useExisting, inject, imports })` take the same
 * options, plus `isGlobal` and `exceptionFilter`.
 *
 * @example
 * @Module({
 *   imports: [
 *     RedlockModule.forRoot({
 *       nodes: ['redis://10.0.0.1', 'redis://10.0.0.2', 'redis://10.0.0.3'],
 *       isGlobal: true,
 *     }),
 *   ],
 * })
 * export class AppModule {}
 */
@Module({
  providers: [...REDLOCK_PROVIDERS, RedlockService],
  exports: [RedlockService, Redlock, REDLOCK_MODULE_OPTIONS],
})
export class RedlockModule extends ConfigurableRedlockModule implements OnApplicationShutdown {
  /** @internal The module owns the engine it made, whoever else uses it (a test double may stand in for `RedlockService`). */
  constructor(private readonly redlock: Redlock) {
    super();
  }

  /** @internal Closes the engine on shutdown: releases held locks, closes the connections it opened. */
  async onApplicationShutdown(): Promise<void> {
    await this.redlock.quit();
  }

  /** The module with `options`: `{ nodes, ...engine and module options, isGlobal? }`. */
  static forRoot(options: RedlockModuleRootOptions): DynamicModule {
    assertKnownOptions('RedlockModule.forRoot(options)', options, [
      ...MODULE_OPTION_KEYS,
      ...REGISTRATION_KEYS,
    ]);
    assertRegistration('forRoot', options);
    return super.forRoot(options as typeof REDLOCK_ROOT_OPTIONS_TYPE);
  }

  /**
   * The module with options made at startup, e.g. from `ConfigService`:
   * `{ imports: [ConfigModule], inject: [ConfigService], useFactory: (config) => ({ nodes: ... }) }`,
   * or `useClass` / `useExisting` with a `RedlockOptionsFactory`. What the factory returns is
   * checked when the app starts, as `forRoot`'s options are.
   */
  static forRootAsync(options: RedlockModuleAsyncOptions): DynamicModule {
    assertKnownOptions('RedlockModule.forRootAsync(options)', options, [
      ...ASYNC_KEYS,
      ...REGISTRATION_KEYS,
    ]);
    assertRegistration('forRootAsync', options);
    if (!options?.useFactory && !options?.useClass && !options?.useExisting) {
      throw new TypeError(
        'RedlockModule.forRootAsync: give one of `useFactory`, `useClass` or `useExisting`',
      );
    }
    return super.forRootAsync(options as typeof REDLOCK_ASYNC_OPTIONS_TYPE);
  }
}

function assertRegistration(
  entry: string,
  options: { isGlobal?: unknown; exceptionFilter?: unknown },
): void {
  namingWhere(`RedlockModule.${entry}`, () => {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('expected an options object');
    }
    if (options.isGlobal !== undefined) assertBoolean('isGlobal', options.isGlobal);
    if (options.exceptionFilter !== undefined) {
      assertBoolean('exceptionFilter', options.exceptionFilter);
    }
  });
}
