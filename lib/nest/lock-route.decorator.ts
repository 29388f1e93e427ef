import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ACQUIRE_OPTION_KEYS, type AcquireOptions } from '../core/options.js';
import { optionKeys } from '../core/util/known-options.js';
import type { LockHttpOptions } from '../http/lock-error-response.js';
import { assertLockOptions, assertOneKeyToRead } from '../http/lock-options.js';
import {
  requestKeyResolver,
  type RequestKeys,
  type RequestLike,
} from '../keys/request-key-template.js';
import { keyTemplates } from '../core/telemetry/trace-labels.js';

import { LockInterceptor } from './lock.interceptor.js';
import { LOCK_ROUTE_METADATA } from './redlock.constants.js';

/** Options of `@LockRoute()`. */
export interface LockRouteOptions extends Omit<AcquireOptions, 'signal'>, LockHttpOptions {
  /** The lock's ttl in milliseconds; extended while the request runs. Default: the module's `defaultTtlMs`. */
  ttlMs?: number;
  /**
   * `'read'`: a read lock, shared with the other readers of the resource (one key, no
   * `fencing`); a route that writes it (`'write'`, the default) answers 423 meanwhile.
   * @default 'write'
   */
  mode?: 'read' | 'write';
  /**
   * A permit of a semaphore of this many instead of a lock (one key, no `mode`, no
   * `fencing`): at most `limit` requests on the key are handled at once, across every
   * instance; the others answer 429 Too Many Requests with `Retry-After`.
   */
  limit?: number;
}

/** Every key of {@link LockRouteOptions}. */
const LOCK_ROUTE_OPTION_KEYS = optionKeys<LockRouteOptions>()([
  ...ACQUIRE_OPTION_KEYS.filter((key): key is Exclude<typeof key, 'signal'> => key !== 'signal'),
  'ttlMs',
  'unavailableStatus',
  'mode',
  'limit',
]);

/** What `LockInterceptor` reads (internal). */
export interface LockRouteMetadata {
  readonly resolveKeys: (request: RequestLike) => string | readonly string[];
  /** The lock's ttl, or `undefined` for the module's default. */
  readonly ttlMs: number | undefined;
  /** What goes to `using()`, besides the request's signal. */
  readonly acquireOptions: Omit<AcquireOptions, 'signal'>;
  /** The route's own status for an unavailable quorum, if it sets one. */
  readonly unavailableStatus: 423 | 503 | undefined;
  /** A read lock or the exclusive one. */
  readonly mode: 'read' | 'write';
  /** A semaphore's limit: a permit instead of a lock. */
  readonly limit: number | undefined;
  /** The key templates, for traces (none when the keys come from a function). */
  readonly templates: readonly string[] | undefined;
}

/**
 * Declares the lock a route (or every route of a controller) holds, as templates over the
 * request: `<params.id>`, `<query.x>`, `<body.orderId>`, `<headers.x-tenant-id>`, `<user.id>`,
 * or `(req) => keys`, and binds the `LockInterceptor` that takes it (as `@UseInterceptors`
 * would; one also bound globally or on the controller does not lock twice). The controller's
 * module must see `RedlockService`, or the app fails at startup. Bad templates fail when the
 * class is defined.
 *
 * @example
 * @Post(':id/pay')
 * @LockRoute('order:<params.id>', { waitMs: 0 })
 * pay(@Param('id') id: string) {}
 */
export function LockRoute(
  keys: RequestKeys,
  options: LockRouteOptions = {},
): MethodDecorator & ClassDecorator {
  assertLockOptions(options, LOCK_ROUTE_OPTION_KEYS, '@LockRoute');
  assertOneKeyToRead(keys, options.mode, '@LockRoute', options.limit);
  // Resolved once, here, rather than on every request.
  const { ttlMs, unavailableStatus, mode = 'write', limit, ...acquireOptions } = options;
  const metadata: LockRouteMetadata = Object.freeze({
    resolveKeys: requestKeyResolver(keys, '@LockRoute'),
    ttlMs,
    acquireOptions: Object.freeze(acquireOptions),
    unavailableStatus,
    mode,
    limit,
    templates: keyTemplates(keys),
  });
  return applyDecorators(
    SetMetadata(LOCK_ROUTE_METADATA, metadata),
    UseInterceptors(LockInterceptor),
  ) as MethodDecorator & ClassDecorator;
}
