import type { ExecutionStats } from './execution-stats.js';

/**
 * An operation failed, as node-redlock reports it: `attempts` holds each attempt's votes. The
 * engine's own error (`ResourceLockedError`, `QuorumUnavailableError`, `LockLostError` of
 * `nestjs-redlock`) is its `cause`, with `retryAfterMs` and the like.
 */
export class ExecutionError extends Error {
  /** A stable machine-readable string. */
  readonly code = 'EXECUTION_FAILED';
  /** The votes of each attempt, one promise per attempt (each resolved already). */
  readonly attempts: ReadonlyArray<Promise<ExecutionStats>>;

  constructor(
    message: string,
    attempts: ReadonlyArray<Promise<ExecutionStats>>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExecutionError';
    this.attempts = attempts;
  }
}
