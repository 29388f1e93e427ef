import { ConfigurableModuleBuilder } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LockExceptionFilter } from './lock-exception.filter.js';
import type { RedlockModuleOptions, RedlockModuleRegistration } from './redlock-module-options.js';

/**
 * The module's definition, made by Nest's `ConfigurableModuleBuilder`: `forRoot(options)` and
 * `forRootAsync({ useFactory | useClass | useExisting, inject, imports })` take one options
 * shape, plus the registration extras `isGlobal` and `exceptionFilter`.
 */
export const {
  ConfigurableModuleClass: ConfigurableRedlockModule,
  MODULE_OPTIONS_TOKEN: REDLOCK_GIVEN_OPTIONS,
  OPTIONS_TYPE: REDLOCK_ROOT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: REDLOCK_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedlockModuleOptions>({ moduleName: 'Redlock' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createRedlockOptions')
  .setExtras<RedlockModuleRegistration>(
    { isGlobal: false, exceptionFilter: true },
    (definition, { isGlobal, exceptionFilter }) => ({
      ...definition,
      global: isGlobal === true,
      providers: [
        ...(definition.providers ?? []),
        // Bound unless turned off explicitly (an `undefined` from configuration keeps it).
        ...(exceptionFilter !== false
          ? [{ provide: APP_FILTER, useClass: LockExceptionFilter }]
          : []),
      ],
    }),
  )
  .build();
