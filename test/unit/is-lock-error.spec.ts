import { describe, expect, it } from '@jest/globals';
import {
  isLockError,
  QuorumUnavailableError,
  RedlockWarning,
  ResourceLockedError,
} from '../../lib/index.js';

describe('isLockError', () => {
  it('recognises the package’s errors, and narrows by code', () => {
    const locked = new ResourceLockedError(['r'], 1_500, 2);
    expect(isLockError(locked)).toBe(true);
    expect(isLockError(locked, 'RESOURCE_LOCKED')).toBe(true);
    expect(isLockError(locked, 'QUORUM_UNAVAILABLE')).toBe(false);
    if (isLockError(locked, 'RESOURCE_LOCKED')) expect(locked.retryAfterMs).toBe(1_500);
    expect(isLockError(new QuorumUnavailableError('acquire', ['r'], 2, [], 1))).toBe(true);
  });

  it('recognises an error of another copy of the package (another class, same code and name)', () => {
    class OtherCopyError extends Error {
      readonly code = 'RESOURCE_LOCKED';
      override readonly name = 'ResourceLockedError';
    }
    const foreign = new OtherCopyError('held elsewhere');
    expect(foreign instanceof ResourceLockedError).toBe(false);
    expect(isLockError(foreign, 'RESOURCE_LOCKED')).toBe(true);
  });

  it('rejects look-alikes: other codes, a warning that shares a code, non-objects', () => {
    expect(isLockError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isLockError(new RedlockWarning('NODE_MAY_EVICT', 'n:1', 'may evict'))).toBe(false);
    expect(isLockError({ code: 'LOCK_LOST' })).toBe(false);
    expect(isLockError('RESOURCE_LOCKED')).toBe(false);
    expect(isLockError(null)).toBe(false);
  });
});
