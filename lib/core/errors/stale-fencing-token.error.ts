import { LockError } from './lock.error.js';

/**
 * A fenced store refused an access: its token is lower than the highest the store has seen for
 * that key, so a newer lock holder has been there since. The caller lost its lock (a pause, a
 * slow network) and must stop; retrying with the same token is refused again.
 */
export class StaleFencingTokenError extends LockError {
  /** The key that was accessed. */
  readonly key: string;
  /** The token that was refused. */
  readonly token: bigint;
  /** The highest token the store had seen for the key. */
  readonly highestSeen: bigint;

  constructor(key: string, token: bigint, highestSeen: bigint) {
    super(
      'STALE_FENCING_TOKEN',
      `Refused access to ${JSON.stringify(key)} with fencing token ${token}: token ` +
        `${highestSeen} has been seen there since, so this lock is no longer held`,
    );
    this.name = 'StaleFencingTokenError';
    this.key = key;
    this.token = token;
    this.highestSeen = highestSeen;
  }
}
