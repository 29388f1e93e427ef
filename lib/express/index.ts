export { lockMiddleware, type LockMiddlewareOptions, type LockRunner } from './lock-middleware.js';
export {
  lockErrorResponse,
  type LockErrorBody,
  type LockErrorResponse,
  type LockHttpOptions,
} from '../http/lock-error-response.js';
export type { RequestLock } from '../http/lock-http-types.js';
