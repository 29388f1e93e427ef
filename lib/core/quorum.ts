import { NodeTimeoutError, type NodeFailure } from './errors/index.js';
import type { RedisNode, StillWanted } from './redis-node.js';

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
}

/** One fan-out: what to send to each node and how to read its reply. */
export interface Ballot<Reply> {
  readonly nodes: readonly RedisNode[];
  readonly quorum: number;
  /** After this many milliseconds, the nodes that have not answered count as failed. */
  readonly timeoutMs: number;
  /** Sends the operation to one node. */
  readonly send: (node: RedisNode, stillWanted: StillWanted) => Promise<Reply>;
  /** Whether a reply is a vote for. */
  readonly isYes: (reply: Reply) => boolean;
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
  return new Promise((resolve) => {
    const replies: (Reply | undefined)[] = new Array(nodes.length);
    const answered: boolean[] = new Array(nodes.length).fill(false);
    const failures: NodeFailure[] = [];
    let yes = 0;
    let no = 0;
    let open = true;
    const stillWanted: StillWanted = () => open;

    const decide = () => {
      open = false;
      clearTimeout(timer);
      resolve({ yes, no, replies, failures });
    };
    const decideIfKnown = () => {
      if (yes >= quorum || no + failures.length > maxAgainst || pending === 0) decide();
    };
    const timer = setTimeout(() => {
      if (!open) return;
      nodes.forEach((node, index) => {
        if (!answered[index]) {
          failures.push({
            node: node.label,
            error: new NodeTimeoutError(node.label, ballot.timeoutMs),
          });
        }
      });
      decide();
    }, ballot.timeoutMs);

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
          if (!open) return;
          replies[index] = reply;
          if (!isYes(reply)) no++;
          else {
            const vetoed = ballot.veto?.(node);
            if (vetoed === undefined) yes++;
            else failures.push({ node: node.label, error: vetoed });
          }
          decideIfKnown();
        },
        (reason: unknown) => {
          answered[index] = true;
          pending--;
          const error = reason instanceof Error ? reason : new Error(String(reason));
          onFailure(error, node);
          if (!open) return;
          failures.push({ node: node.label, error });
          decideIfKnown();
        },
      );
    });
  });
}
