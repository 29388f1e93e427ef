/** Taking a lock: retries, one attempt on every node, waiting in line, the release call. */
export { acquireWithRetries, type AcquisitionContext } from './acquisition.js';
export { attemptAcquire, attemptFencedAcquire, type AttemptContext } from './acquire-attempt.js';
export { Waiter, type WaitOutcome } from './waiter.js';
export { NodeClocks } from './node-clocks.js';
export { releaseCall, type ScriptCall } from './release-call.js';
export { retryAfterMs } from './retry-after.js';
export { newLockValue, isReaderValue, LOCK_VALUE_BYTES } from './lock-value.js';
