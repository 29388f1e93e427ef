import { NodeTimeoutError, type NodeFailure, type NodeVote } from '../errors/index.js';
import { monotonicNow } from '../util/clock.js';
import type { RedisNode, StillWanted } from './redis-node.js';
import type { VoteDeadlines } from './vote-deadlines.js';

/** What the nodes that had not answered when a vote was decided did afterwards. */
export interface LateVotes {
  /** How many voted for (a grant is a grant, even from a node whose vote would be vetoed). */
  readonly yes: number;
  /** How many failed, or had still not answered when the ballot's `timeoutMs` ran out. */
  readonly failed: number;
}

/** What the nodes answered to one operation, up to the moment it was decided. */
export interface Tally<Reply> {
  /** Nodes that voted for (e.g. granted the lock). */
  readonly yes: number;
  /** Nodes that answered but voted against (e.g. the key is held). */
  readonly no: number;
  /** The replies that arrived before the decision, by node index. */
  readonly replies: readonly (Reply | undefined)[];
  /** Nodes that failed, timed out or were down. */
  readonly failures: readonly NodeFailure[];
  /**
   * The indices of the replies whose votes do not count (the ballot's `veto` said so when they
   * arrived): a vote for that was vetoed, and a vote against from such a node. For callers
   * that read more from `replies` than the count of votes for.
   */
  readonly uncounted: readonly number[];
  /** Each node's vote up to the decision, in node order (made when asked: for errors). */
  votes(): readonly NodeVote[];
  /**
   * What the nodes that had not answered at the decision answered after it: resolves once
   * each has, or `timeoutMs` after the vote began (the rest then count as failed). Never
   * rejects; the same promise on every call.
   */
  late(): Promise<LateVotes>;
}

/** One fan-out: what to send to each node and how to read its reply. */
export interface Ballot<Reply> {
  readonly nodes: readonly RedisNode[];
  readonly quorum: number;
  /** After this many milliseconds, the nodes that have not answered count as failed. */
  readonly timeoutMs: number;
  /** Sends the operation to one node. */
  readonly send: (node: RedisNode, stillWanted: StillWanted) => Promise<Reply>;
  /**
   * Whether a reply is a vote for; asked once for each reply, including those that arrive
   * after the decision, with the index of the node that sent it.
   */
  readonly isYes: (reply: Reply, index: number) => boolean;
  /**
   * Wait for every node (up to `timeoutMs`) instead of deciding early; for the clean-up release
   * of a lost acquisition, whose caller wants the nodes clean when it returns.
   */
  readonly settleAll?: boolean;
  /**
   * Asked when a node votes for: an error if that vote must not count (the node restarted
   * recently); the vote then counts as that failure.
   */
  readonly veto?: (node: RedisNode) => Error | undefined;
  /** Every node failure, including those that arrive after the decision. */
  readonly onFailure: (error: Error, node: RedisNode) => void;
  /**
   * The engine's shared deadline timer, for votes that all wait the same `timeoutMs`; without
   * it, the vote sets a timer of its own.
   */
  readonly deadlines?: VoteDeadlines;
}

/**
 * Sends an operation to every node in parallel and resolves as soon as the outcome is known:
 * when a quorum has voted for, or when so many have voted against or failed that a quorum can
 * no longer be reached, or when `timeoutMs` passes. A node that is down, slow or blackholed
 * therefore never holds the operation hostage. Replies that arrive after the decision are
 * ignored (their failures are still reported), and nothing is ever left unhandled.
 */
export function collectVotes<Reply>(ballot: Ballot<Reply>): Promise<Tally<Reply>> {
  const { nodes, isYes, onFailure } = ballot;
  const quorum = ballot.settleAll ? nodes.length : ballot.quorum;
  const maxAgainst = ballot.settleAll ? Number.POSITIVE_INFINITY : nodes.length - quorum;
  let pending = nodes.length;
  const startedAt = monotonicNow();
  let lateYes = 0;
  let lateFailed = 0;
  let settled: Promise<LateVotes> | undefined;
  let onSettled: (() => void) | undefined;
  const late = (): Promise<LateVotes> => {
    settled ??= new Promise((resolve) => {
      if (pending === 0) {
        resolve({ yes: lateYes, failed: lateFailed });
        return;
      }
      const timer = setTimeout(
        () => {
          onSettled = undefined;
          resolve({ yes: lateYes, failed: lateFailed + pending });
        },
        Math.max(0, startedAt + ballot.timeoutMs - monotonicNow()),
      );
      onSettled = () => {
        clearTimeout(timer);
        resolve({ yes: lateYes, failed: lateFailed });
      };
    });
    return settled;
  };
  const settleIfAllAnswered = () => {
    if (pending === 0) onSettled?.();
  };
  return new Promise((resolve) => {
    const replies: (Reply | undefined)[] = new Array(nodes.length);
    const answered: boolean[] = new Array(nodes.length).fill(false);
    const failures: NodeFailure[] = [];
    const uncounted: number[] = [];
    /** Each node's vote and its error, by index, up to the decision. */
    const voteAt: (NodeVote['vote'] | undefined)[] = new Array(nodes.length);
    let errorAt: (Error | undefined)[] | undefined;
    const failed = (index: number, error: Error, vote: NodeVote['vote'] = 'failed') => {
      voteAt[index] = vote;
      (errorAt ??= new Array(nodes.length))[index] = error;
    };
    const votes = (): readonly NodeVote[] =>
      nodes.map((node, index) => {
        const error = errorAt?.[index];
        const vote = voteAt[index] ?? 'pending';
        return error === undefined ? { node: node.label, vote } : { node: node.label, vote, error };
      });
    let yes = 0;
    let no = 0;
    let open = true;
    const stillWanted: StillWanted = () => open;

    const decide = () => {
      open = false;
      cancelTimeout();
      resolve({ yes, no, replies, failures, uncounted, votes, late });
    };
    const decideIfKnown = () => {
      if (yes >= quorum || no + failures.length > maxAgainst || pending === 0) decide();
    };
    const timedOut = () => {
      if (!open) return;
      nodes.forEach((node, index) => {
        if (!answered[index]) {
          const error = new NodeTimeoutError(node.label, ballot.timeoutMs);
          failures.push({ node: node.label, error });
          failed(index, error);
        }
      });
      decide();
    };
    let cancelTimeout: () => void;
    if (ballot.deadlines) {
      const deadlines = ballot.deadlines;
      const deadline = deadlines.add(startedAt + ballot.timeoutMs, timedOut);
      cancelTimeout = () => deadlines.cancel(deadline);
    } else {
      const timer = setTimeout(timedOut, ballot.timeoutMs);
      cancelTimeout = () => clearTimeout(timer);
    }

    nodes.forEach((node, index) => {
      let sent: Promise<Reply>;
      try {
        sent = ballot.send(node, stillWanted);
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.then(
        (reply) => {
          answered[index] = true;
          pending--;
          if (!open) {
            if (isYes(reply, index)) lateYes++;
            settleIfAllAnswered();
            return;
          }
          replies[index] = reply;
          if (!isYes(reply, index)) {
            no++;
            voteAt[index] = 'against';
            if (ballot.veto?.(node) !== undefined) uncounted.push(index);
          } else {
            const vetoed = ballot.veto?.(node);
            if (vetoed === undefined) {
              yes++;
              voteAt[index] = 'for';
            } else {
              failures.push({ node: node.label, error: vetoed });
              uncounted.push(index);
              failed(index, vetoed, 'not counted');
            }
          }
          decideIfKnown();
        },
        (reason: unknown) => {
          answered[index] = true;
          pending--;
          const error = reason instanceof Error ? reason : new Error(String(reason));
          onFailure(error, node);
          if (!open) {
            lateFailed++;
            settleIfAllAnswered();
            return;
          }
          failures.push({ node: node.label, error });
          failed(index, error);
          decideIfKnown();
        },
      );
    });
  });
}
