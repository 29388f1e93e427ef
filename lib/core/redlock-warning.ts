/** Machine-readable codes of the warnings a `Redlock` emits. */
export type RedlockWarningCode =
  /** A node may evict keys (`maxmemory` with a policy other than `noeviction`). */
  | 'NODE_MAY_EVICT'
  /** A caller's ioredis client re-sends unanswered commands after a reconnection. */
  | 'CLIENT_RESENDS_COMMANDS'
  /**
   * A node's INFO cannot be read (renamed, or denied by an ACL): its restarts and its eviction
   * policy go unnoticed.
   */
  | 'RESTART_DETECTION_OFF'
  /**
   * A node refused to let this client subscribe to release notices (an ACL without SUBSCRIBE
   * or channel access): its waiters poll every `retryDelayMs` instead of being woken.
   */
  | 'NOTICES_UNAVAILABLE';

/**
 * Something in the set-up that weakens the lock's guarantees, found at run time: emitted as
 * the `warning` event, or, with nobody listening, through `process.emitWarning` so that it is
 * never silent. The message names the fix.
 */
export class RedlockWarning extends Error {
  /** What is wrong, as a stable machine-readable string. */
  readonly code: RedlockWarningCode;
  /** The node concerned, as `host:port`. */
  readonly node: string;

  constructor(code: RedlockWarningCode, node: string, message: string) {
    super(`${node}: ${message}`);
    this.name = 'RedlockWarning';
    this.code = code;
    this.node = node;
  }
}
