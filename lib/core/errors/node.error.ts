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
 * A node's connection is not ready (it is down or reconnecting). The command is not queued:
 * a queued lock command could reach Redis long after its operation was decided.
 */
export class NodeNotReadyError extends LockError {
  /** The node, as `host:port`. */
  readonly node: string;

  constructor(node: string, status: string) {
    super('NODE_NOT_READY', `${node} is not connected (status: ${status})`);
    this.name = 'NodeNotReadyError';
    this.node = node;
  }
}
