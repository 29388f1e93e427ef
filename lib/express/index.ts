/**
 * The Express middleware, `lockMiddleware`, and the HTTP answers it shares with the Nest interceptor.
 *
 * @packageDocumentation
 * @module nestjs-redlock/express
 */
export { lockMiddleware, type LockMiddlewareOptions, type LockRunner } from './lock-middleware.js';
export type { RequestKeys, RequestLike } from '../keys/request-key-template.js';
export {
  lockErrorResponse,
  type LockErrorBody,
  type LockErrorResponse,
  type LockHttpOptions,
} from '../http/lock-error-response.js';
export type { RawResponse, RequestLock } from '../http/lock-http-types.js';
