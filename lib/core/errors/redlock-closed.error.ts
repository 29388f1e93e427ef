import { LockError } from './lock.error.js';

/** The `Redlock` instance was closed with `quit()`; it takes no more work. */
export class RedlockClosedError extends LockError {
  constructor() {
    super('REDLOCK_CLOSED', 'This Redlock instance was closed with quit(); create a new one.');
    this.name = 'RedlockClosedError';
  }
}
