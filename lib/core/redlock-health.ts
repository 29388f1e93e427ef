import type { NodeProblem } from './nodes/node-diagnosis.js';

/** How one node answered a health check. */
export interface NodeHealth {
  /** The node, as `host:port` (never with its password). */
  readonly node: string;
  /** Whether it answered PING in time and its votes count (it did not just restart). */
  readonly up: boolean;
  /** How long PING took, in milliseconds, when it answered. */
  readonly latencyMs?: number;
  /** Why it is not up, and what to do about it. */
  readonly error?: string;
  /** The cause of `error`, machine-readable (`'auth'`, `'tls'`, `'read-only'`...). */
  readonly problem?: NodeProblem;
  /**
   * What weakens the lock on it although it counts: a node that may evict keys, or whose
   * restarts cannot be noticed (INFO denied).
   */
  readonly warning?: string;
}

/** What `Redlock.health()` finds: each node, and whether a quorum of them is up. */
export interface RedlockHealth {
  /** Whether at least `quorum` nodes are up: locks can be granted. */
  readonly quorumReachable: boolean;
  /** How many nodes must agree. */
  readonly quorum: number;
  /** How many nodes are up. */
  readonly up: number;
  /** Each node, in the order they were given. */
  readonly nodes: readonly NodeHealth[];
}
