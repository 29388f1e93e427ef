import type { Cluster, Redis } from 'ioredis';
import type { NodeVote } from '../core/errors/node-vote.js';
import { ResourceLockedError } from './resource-locked.error.js';

/** A client as node-redlock takes it: an ioredis `Redis` or `Cluster`. */
export type Client = Redis | Cluster;

/** One node's answer to one attempt, as node-redlock types it. */
export type ClientExecutionResult =
  | {
      /** The node's client. */
      client: Client;
      /** It granted. */
      vote: 'for';
      /** How many resources it applied the operation to. */
      value: number;
    }
  | {
      /** The node's client. */
      client: Client;
      /** It refused, failed or did not count. */
      vote: 'against';
      /** Why. */
      error: Error;
    };

/**
 * The votes of one attempt, as node-redlock reports them. A node that had not answered when a
 * quorum of the others decided is in neither set (node-redlock waits for every node; this
 * engine does not).
 */
export interface ExecutionStats {
  /** How many nodes there are. */
  readonly membershipSize: number;
  /** How many must agree. */
  readonly quorumSize: number;
  /** The nodes that voted for. */
  readonly votesFor: Set<Client>;
  /** The nodes that voted against, each with why (`ResourceLockedError` when the key is held). */
  readonly votesAgainst: Map<Client, Error>;
}

/** What `release()` resolves to: the votes of each attempt. */
export interface ExecutionResult {
  /** One promise per attempt, each resolved already. */
  readonly attempts: ReadonlyArray<Promise<ExecutionStats>>;
}

/**
 * node-redlock's stats of one round of `votes` (in node order, as `clients` are), for
 * `resourceCount` resources under a quorum of `quorumSize`.
 */
export function statsOf(
  votes: readonly NodeVote[],
  clients: readonly Client[],
  quorumSize: number,
  resourceCount: number,
): ExecutionStats {
  const stats: ExecutionStats = {
    membershipSize: clients.length,
    quorumSize,
    votesFor: new Set(),
    votesAgainst: new Map(),
  };
  votes.forEach(({ vote, error }, index) => {
    const client = clients[index];
    if (vote === 'for') stats.votesFor.add(client);
    else if (vote === 'against') stats.votesAgainst.set(client, refusal(resourceCount));
    else if (vote !== 'pending') stats.votesAgainst.set(client, error ?? new Error(vote));
  });
  return stats;
}

/** node-redlock's error for a node that refused: a key is held, by another lock or none. */
export function refusal(resourceCount: number): ResourceLockedError {
  return new ResourceLockedError(
    `The operation was not applied to all ${resourceCount} requested resources on this node: ` +
      'a resource is held by another lock, or no longer by this one.',
  );
}
