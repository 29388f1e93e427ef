import { LockError } from './lock.error.js';

/** A node did not answer within `nodeTimeoutMs`; its vote counts as a failure. */
export class NodeTimeoutError extends LockError {
  /** The node, as `host:port`. */
  readonly node: string;

  constructor(node: string, timeoutMs: number) {
    super('NODE_TIMEOUT', `No answer from ${node} within ${timeoutMs} ms (nodeTimeoutMs)`);
    this.name = 'NodeTimeoutError';
    this.node = node;
  }
}

/**
 * A node cannot take the command now: its connection is down or reconnecting, or it is open
 * but has stopped answering. The command is not queued: a queued lock command could reach
 * Redis long after its operation was decided.
 */
export class NodeNotReadyError extends LockError {
  /** The node, as `host:port`. */
  readonly node: string;

  /** `cause`: the connection's last error (a refused password, say), when there is one. */
  constructor(node: string, reason: string, cause?: Error) {
    super(
      'NODE_NOT_READY',
      `${node} is not ready (${reason}${cause ? `; last error: ${cause.message}` : ''})`,
      cause ? { cause } : undefined,
    );
    this.name = 'NodeNotReadyError';
    this.node = node;
  }
}

/**
 * A node's votes do not count because its connection is not what was asked for: its database
 * could not be selected (the index is not below the server's `databases` setting), so the
 * connection would lock keys in database 0; or it does not run this client's scripts (an ACL
 * without EVALSHA, a renamed EVAL), so a lock it granted could not be released.
 */
export class NodeMisconfiguredError extends LockError {
  /** The node, as `host:port`. */
  readonly node: string;

  constructor(node: string, reason: string, cause?: Error) {
    super('NODE_MISCONFIGURED', `${node} does not count: ${reason}`, cause ? { cause } : undefined);
    this.name = 'NodeMisconfiguredError';
    this.node = node;
  }
}

/**
 * A node's vote was not counted: it restarted less than `restartDelayMs` ago, and may have lost
 * the keys of locks that are still valid (see the README's "Correctness" section).
 */
export class NodeRestartedError extends LockError {
  /** The node, as `host:port`. */
  readonly node: string;

  constructor(node: string, reason: string) {
    super('NODE_RESTARTED', `${node} does not count: ${reason}`);
    this.name = 'NodeRestartedError';
    this.node = node;
  }
}

/**
 * A node's vote was not counted: it may evict keys (`maxmemory` is set with a policy other than
 * `noeviction`), so a held lock's key could vanish under memory pressure and be granted again.
 * Set `maxmemory-policy noeviction` on the node, or use a Redis that holds only locks; or set
 * `evictingNodes: 'warn'` to count it anyway.
 */
export class NodeMayEvictError extends LockError {
  /** The node, as `host:port`. */
  readonly node: string;
  /** The node's `maxmemory-policy`. */
  readonly policy: string;

  constructor(node: string, policy: string) {
    super(
      'NODE_MAY_EVICT',
      `${node} does not count: it may evict lock keys (maxmemory is set, maxmemory-policy ` +
        `${policy}). Run \`CONFIG SET maxmemory-policy noeviction\` on it (and in its config ` +
        "file), or use a Redis for locks only; `evictingNodes: 'warn'` counts it anyway.",
    );
    this.name = 'NodeMayEvictError';
    this.node = node;
    this.policy = policy;
  }
}
