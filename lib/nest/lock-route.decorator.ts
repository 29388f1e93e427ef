import { SetMetadata } from '@nestjs/common';
import { assertTtl } from '../core/arguments.js';
import { assertAcquireOptions, type AcquireOptions } from '../core/options.js';
import { assertLockHttpOptions, type LockHttpOptions } from '../http/lock-error-response.js';
import {
  requestKeyResolver,
  type RequestKeys,
  type RequestLike,
} from '../keys/request-key-template.js';

/** Metadata key of `@LockRoute()`, read by `LockInterceptor`. */
export const LOCK_ROUTE_METADATA = 'nestjs-redlock:lock-route';

/** Options of `@LockRoute()`. */
export interface LockRouteOptions extends Omit<AcquireOptions, 'signal'>, LockHttpOptions {
  /** The lock's ttl in milliseconds; extended while the request runs. Default: the module's `defaultTtlMs`. */
  ttlMs?: number;
}

/** What `LockInterceptor` reads (internal). */
export interface LockRouteMetadata {
  readonly resolveKeys: (request: RequestLike) => string | readonly string[];
  readonly options: LockRouteOptions;
}

/**
 * Declares the lock a route (or every route of a controller) holds, as templates over the
 * request: `<params.id>`, `<query.x>`, `<body.orderId>`, `<headers.x-tenant-id>`, `<user.id>`,
 * or `(req) => keys`. `LockInterceptor` takes it. Bad templates fail when the class is defined.
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
  assertAcquireOptions(options);
  assertLockHttpOptions(options);
  if (options.ttlMs !== undefined) assertTtl('ttlMs', options.ttlMs);
  const metadata: LockRouteMetadata = {
    resolveKeys: requestKeyResolver(keys, '@LockRoute'),
    options,
  };
  return SetMetadata(LOCK_ROUTE_METADATA, metadata);
}
