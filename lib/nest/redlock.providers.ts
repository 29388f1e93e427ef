import { Logger, type Provider } from '@nestjs/common';
import { logEngineEvents } from './redlock-logging.js';
import { Redlock } from '../core/redlock.js';
import type { RedlockOptions } from '../core/options.js';
import { namingWhere } from '../core/util/naming-where.js';
import { REDLOCK_MODULE_OPTIONS } from './redlock.constants.js';
import { REDLOCK_GIVEN_OPTIONS } from './redlock.module-definition.js';
import {
  resolveModuleOptions,
  type RedlockModuleOptions,
  type ResolvedRedlockModuleOptions,
} from './redlock-module-options.js';

/**
 * The module's providers besides `RedlockService`: the options, checked and with defaults
 * (`REDLOCK_MODULE_OPTIONS`), and the engine itself, injectable as `Redlock`, as
 * cache-manager's `CACHE_MANAGER` is. `RedlockService` closes it on shutdown.
 */
export const REDLOCK_PROVIDERS: Provider[] = [
  {
    provide: REDLOCK_MODULE_OPTIONS,
    useFactory: (options: RedlockModuleOptions) => resolveModuleOptions(options),
    inject: [REDLOCK_GIVEN_OPTIONS],
  },
  {
    provide: Redlock,
    useFactory: (options: ResolvedRedlockModuleOptions) => {
      const redlock = namingWhere(
        'RedlockModule',
        () => new Redlock(options.nodes, engineOptionsOf(options)),
      );
      const { logger } = options;
      if (logger !== false) {
        logEngineEvents(redlock, logger ?? new Logger('Redlock'), options.nodes.length);
      }
      return redlock;
    },
    inject: [REDLOCK_MODULE_OPTIONS],
  },
];

/** The engine's options among the module's: all but the nodes and the module's own. */
function engineOptionsOf(options: ResolvedRedlockModuleOptions): RedlockOptions {
  const { nodes, defaultTtlMs, keyPrefix, logger, unavailableStatus, ...engineOptions } = options;
  void [nodes, defaultTtlMs, keyPrefix, logger, unavailableStatus];
  return engineOptions;
}
