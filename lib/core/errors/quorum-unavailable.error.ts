import { LockError } from './lock.error.js';
import { describe } from './describe-resources.js';
import type { NodeVote } from './node-vote.js';
import { adviceFor, diagnose } from '../nodes/node-diagnosis.js';

/** One node's failure within an operation. */
export interface NodeFailure {
  /** The node, as `host:port` (never with its password). */
  readonly node: string;
  /** What the node answered, or why it did not. */
  readonly error: Error;
}

/**
 * Too few nodes answered for a quorum: nodes are down, unreachable or slower than
 * `nodeTimeoutMs`, or the answers came too late to leave any validity.
 */
export class QuorumUnavailableError extends LockError {
  /** The resources of the operation. */
  readonly resources: readonly string[];
  /** Each node that failed, and why. */
  readonly nodeErrors: readonly NodeFailure[];
  /** The number of nodes that had to agree. */
  readonly quorum: number;
  /** How many attempts were made. */
  readonly attempts: number;
  /** What each node answered to the last attempt (see {@link NodeVote}). */
  readonly votes: readonly NodeVote[];

  constructor(
    operation: string,
    resources: readonly string[],
    quorum: number,
    nodeErrors: readonly NodeFailure[],
    attempts: number,
    detail?: string,
    votes: readonly NodeVote[] = [],
  ) {
    const summary = nodeErrors
      .slice(0, 5)
      .map(({ node, error }) =>
        error.message.includes(node) ? error.message : `${node}: ${error.message}`,
      )
      .join('; ');
    // The advice fits the causes: a refused password needs another password, not a longer
    // nodeTimeoutMs.
    const problems = [...new Set(nodeErrors.map(({ error }) => diagnose(error)))];
    const advice = problems.length === 0 ? [adviceFor('timeout')] : problems.map(adviceFor);
    super(
      'QUORUM_UNAVAILABLE',
      `Could not ${operation} ${describe(resources)}: ${quorum} nodes must agree` +
        (detail ? `, ${detail}` : `, but ${nodeErrors.length} failed (${summary})`) +
        `. ${advice.join(' ')}`,
    );
    this.name = 'QuorumUnavailableError';
    this.resources = resources;
    this.quorum = quorum;
    this.nodeErrors = nodeErrors;
    this.attempts = attempts;
    this.votes = votes;
  }
}
