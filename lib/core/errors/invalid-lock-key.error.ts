import { RESERVED_NAMESPACE } from '../scripts/keys.js';
import { LockError } from './lock.error.js';

/**
 * A lock key could not be built from the values given at call time: a placeholder's value is
 * missing, empty, or not a string, number, bigint or boolean, or the key is too long; or a
 * resource name lies in the engine's reserved namespace (see {@link InvalidLockKeyError.reserved}).
 * No lock was taken.
 */
export class InvalidLockKeyError extends LockError {
  /** The key template, e.g. `order:<id>`. */
  readonly template: string;
  /** The placeholder that had no usable value, e.g. `<id>`. */
  readonly placeholder: string;
  /** What is wrong with its value, e.g. `is undefined`. */
  readonly problem: string;

  constructor(template: string, placeholder: string, problem: string, message?: string) {
    super(
      'INVALID_LOCK_KEY',
      message ??
        `Cannot build the lock key ${JSON.stringify(template)}: ${placeholder} ${problem}. ` +
          'Pass a non-empty string, number, bigint or boolean there, of a sensible length.',
    );
    this.name = 'InvalidLockKeyError';
    this.template = template;
    this.placeholder = placeholder;
    this.problem = problem;
  }

  /** `name` contains a lone UTF-16 surrogate (half of a character). */
  static malformed(name: string, argument: string): InvalidLockKeyError {
    return new InvalidLockKeyError(
      name,
      '',
      'is not well-formed UTF-16',
      `Expected ${argument} to be well-formed text, got one with a lone UTF-16 surrogate ` +
        '(half of a character): Redis would see a replacement character, the same for every ' +
        'such name.',
    );
  }

  /**
   * `name` lies in the engine's reserved namespace (it contains `:redlock:`), where the engine
   * keeps each resource's queue and fencing counter: locking or storing it could break or reset
   * another resource's. `template` is then the name, and `placeholder` is empty.
   */
  static reserved(name: string, argument: string): InvalidLockKeyError {
    return new InvalidLockKeyError(
      name,
      '',
      'is reserved',
      `Expected ${argument} not to contain ${JSON.stringify(RESERVED_NAMESPACE)}, got ` +
        `${JSON.stringify(name)}: the engine keeps each resource's wait queue and fencing ` +
        `counter under "<resource>${RESERVED_NAMESPACE}...". Choose another separator or word.`,
    );
  }
}
