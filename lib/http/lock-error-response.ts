import { isLockError } from '../core/errors/index.js';
import { DEFAULT_UNAVAILABLE_STATUS } from './lock-defaults.js';

/** How the HTTP layers answer lock failures. */
export interface LockHttpOptions {
  /**
   * The status when too few Redis nodes answer: 423 (the lock could not be had) or 503 (the
   * service is degraded).
   * @default 423
   */
  unavailableStatus?: 423 | 503;
}

/** Checks `unavailableStatus` (before any request): 423, 503, or nothing. */
export function assertLockHttpOptions(options: LockHttpOptions): void {
  const status: unknown = options.unavailableStatus;
  if (status !== undefined && status !== 423 && status !== 503) {
    throw new RangeError(
      `Expected \`unavailableStatus\` to be 423 or 503, got ${JSON.stringify(status) ?? typeof status}`,
    );
  }
}

/**
 * The JSON body of a lock failure. It names no resource, key template or prefix: those are
 * the service's internals.
 */
export interface LockErrorBody {
  /** The HTTP status, as in the response line. */
  statusCode: number;
  /** The status's reason phrase, e.g. `Locked`. */
  error: string;
  /** A sentence for humans. */
  message: string;
  /**
   * `locked`: held elsewhere; `busy`: every permit of a semaphore is held; `unavailable`: no
   * quorum; `invalid-key`: the request lacks a key value.
   */
  reason: 'locked' | 'busy' | 'unavailable' | 'invalid-key';
}

/** An HTTP answer to a lock error: status, headers and JSON body. */
export interface LockErrorResponse {
  /** 423, 429, 503 or 400. */
  status: number;
  /** Headers to set, e.g. `Retry-After` in seconds. */
  headers: Record<string, string>;
  /** The JSON body. */
  body: LockErrorBody;
}

/**
 * The HTTP answer to `error` if it is a lock failure, else `undefined`: 423 Locked with a
 * `Retry-After` (seconds, from the holder's remaining ttl) for `ResourceLockedError`, or 429
 * Too Many Requests with the same header when it is a semaphore's (every permit held: a limit
 * on concurrency, which clients and proxies know to retry after, not a locked resource); 423 (or
 * `unavailableStatus`) for `QuorumUnavailableError`; 400 for `InvalidLockKeyError`.
 */
export function lockErrorResponse(
  error: unknown,
  options: LockHttpOptions = {},
): LockErrorResponse | undefined {
  if (isLockError(error, 'RESOURCE_LOCKED')) {
    const headers: Record<string, string> = {};
    if (Number.isFinite(error.retryAfterMs)) {
      headers['Retry-After'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    }
    if (error.limit !== undefined) {
      return {
        status: 429,
        headers,
        body: {
          statusCode: 429,
          error: 'Too Many Requests',
          message: 'Too many requests are under way at once; retry later.',
          reason: 'busy',
        },
      };
    }
    return {
      status: 423,
      headers,
      body: {
        statusCode: 423,
        error: 'Locked',
        message: 'The resource is locked by another request; retry later.',
        reason: 'locked',
      },
    };
  }
  if (isLockError(error, 'QUORUM_UNAVAILABLE')) {
    const status = options.unavailableStatus ?? DEFAULT_UNAVAILABLE_STATUS;
    return {
      status,
      headers: {},
      body: {
        statusCode: status,
        error: status === 503 ? 'Service Unavailable' : 'Locked',
        message: 'The lock service could not reach enough of its nodes; retry later.',
        reason: 'unavailable',
      },
    };
  }
  if (isLockError(error, 'INVALID_LOCK_KEY')) {
    return {
      status: 400,
      headers: {},
      body: {
        statusCode: 400,
        error: 'Bad Request',
        // The placeholder names a part of the request; the template, with its key names, and
        // the resource name, with the module's prefix, stay internal.
        message: error.placeholder
          ? `The request's ${error.placeholder} ${error.problem}; it is needed for the lock key.`
          : 'The request gives a value that cannot be part of a lock key.',
        reason: 'invalid-key',
      },
    };
  }
  return undefined;
}
