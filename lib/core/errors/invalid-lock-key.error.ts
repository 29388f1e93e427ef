import { LockError } from './lock.error.js';

/**
 * A lock key could not be built from the values given at call time: a placeholder's value is
 * missing, empty, or not a string, number, bigint or boolean, or the key is too long. No lock
 * was taken.
 */
export class InvalidLockKeyError extends LockError {
  /** The key template, e.g. `order:<id>`. */
  readonly template: string;
  /** The placeholder that had no usable value, e.g. `<id>`. */
  readonly placeholder: string;

  constructor(template: string, placeholder: string, problem: string) {
    super(
      'INVALID_LOCK_KEY',
      `Cannot build the lock key ${JSON.stringify(template)}: ${placeholder} ${problem}. ` +
        'Pass a non-empty string, number, bigint or boolean there, of a sensible length.',
    );
    this.name = 'InvalidLockKeyError';
    this.template = template;
    this.placeholder = placeholder;
  }
}
