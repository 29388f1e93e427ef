import type { CrossSlotError } from './cross-slot.error.js';
import type { InvalidLockKeyError } from './invalid-lock-key.error.js';
import type { LockError, LockErrorCode } from './lock.error.js';
import type { LockLostError } from './lock-lost.error.js';
import type { LockUpgradeError } from './lock-upgrade.error.js';
import type { LockKindMismatchError } from './lock-kind-mismatch.error.js';
import type {
  NodeMayEvictError,
  NodeMisconfiguredError,
  NodeNotReadyError,
  NodeRestartedError,
  NodeTimeoutError,
} from './node.error.js';
import type { QuorumUnavailableError } from './quorum-unavailable.error.js';
import type { RedlockClosedError } from './redlock-closed.error.js';
import type { RequestAbortedError } from './request-aborted.error.js';
import type { ResourceLockedError } from './resource-locked.error.js';
import type { StaleFencingTokenError } from './stale-fencing-token.error.js';

/** Each error's class by its `code`, for {@link isLockError}'s narrowing. */
export interface LockErrorsByCode {
  /** {@link ResourceLockedError} */
  RESOURCE_LOCKED: ResourceLockedError;
  /** {@link QuorumUnavailableError} */
  QUORUM_UNAVAILABLE: QuorumUnavailableError;
  /** {@link LockLostError} */
  LOCK_LOST: LockLostError;
  /** {@link CrossSlotError} */
  CROSS_SLOT: CrossSlotError;
  /** {@link RedlockClosedError} */
  REDLOCK_CLOSED: RedlockClosedError;
  /** {@link NodeTimeoutError} */
  NODE_TIMEOUT: NodeTimeoutError;
  /** {@link NodeNotReadyError} */
  NODE_NOT_READY: NodeNotReadyError;
  /** {@link NodeRestartedError} */
  NODE_RESTARTED: NodeRestartedError;
  /** {@link NodeMayEvictError} */
  NODE_MAY_EVICT: NodeMayEvictError;
  /** {@link NodeMisconfiguredError} */
  NODE_MISCONFIGURED: NodeMisconfiguredError;
  /** {@link StaleFencingTokenError} */
  STALE_FENCING_TOKEN: StaleFencingTokenError;
  /** {@link InvalidLockKeyError} */
  INVALID_LOCK_KEY: InvalidLockKeyError;
  /** {@link RequestAbortedError} */
  REQUEST_ABORTED: RequestAbortedError;
  /** {@link LockUpgradeError} */
  LOCK_UPGRADE: LockUpgradeError;
  /** {@link LockKindMismatchError} */
  LOCK_KIND_MISMATCH: LockKindMismatchError;
}

/** Each code's class name: a lock error is recognised by both, not by its prototype. */
const NAMES: Readonly<Record<LockErrorCode, string>> = Object.freeze({
  RESOURCE_LOCKED: 'ResourceLockedError',
  QUORUM_UNAVAILABLE: 'QuorumUnavailableError',
  LOCK_LOST: 'LockLostError',
  CROSS_SLOT: 'CrossSlotError',
  REDLOCK_CLOSED: 'RedlockClosedError',
  NODE_TIMEOUT: 'NodeTimeoutError',
  NODE_NOT_READY: 'NodeNotReadyError',
  NODE_RESTARTED: 'NodeRestartedError',
  NODE_MAY_EVICT: 'NodeMayEvictError',
  NODE_MISCONFIGURED: 'NodeMisconfiguredError',
  STALE_FENCING_TOKEN: 'StaleFencingTokenError',
  INVALID_LOCK_KEY: 'InvalidLockKeyError',
  REQUEST_ABORTED: 'RequestAbortedError',
  LOCK_UPGRADE: 'LockUpgradeError',
  LOCK_KIND_MISMATCH: 'LockKindMismatchError',
});

/**
 * Whether `error` is one of this package's errors (with `code`, that one), narrowed to its
 * class. Unlike `instanceof`, it holds across two copies of the package (its ES module and
 * CommonJS builds, or two installs): it checks the error's `code` and `name`.
 *
 * @example
 * try {
 *   await redlock.acquire('report', 5_000);
 * } catch (error) {
 *   if (isLockError(error, 'RESOURCE_LOCKED')) retryIn(error.retryAfterMs);
 *   else throw error;
 * }
 */
export function isLockError(error: unknown): error is LockError;
export function isLockError<Code extends LockErrorCode>(
  error: unknown,
  code: Code,
): error is LockErrorsByCode[Code];
export function isLockError(error: unknown, code?: LockErrorCode): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code: actual, name } = error as { code?: unknown; name?: unknown };
  if (typeof actual !== 'string' || !Object.hasOwn(NAMES, actual)) return false;
  if (name !== NAMES[actual as LockErrorCode]) return false;
  return code === undefined || actual === code;
}
