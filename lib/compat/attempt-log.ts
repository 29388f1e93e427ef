import type { NodeVote } from '../core/errors/node-vote.js';
import type { VotesObserver } from '../core/votes-observer.js';
import { statsOf, type Client, type ExecutionStats } from './execution-stats.js';

/**
 * The votes of one operation's attempts, as node-redlock lists them: one entry per attempt (the
 * first, and each retry), holding the votes of the attempt's last round (an attempt of the
 * engine's can take several: a plain SET NX, then the queued one). Each vote against is told
 * to `onError` once its attempt is over, as node-redlock emits `error`.
 */
export class AttemptLog {
  /** One promise per attempt, each resolved already. */
  readonly attempts: Promise<ExecutionStats>[] = [];
  /** The attempt whose votes are the latest entry, until its errors are told. */
  private open: { attempt: number | undefined; stats: ExecutionStats } | undefined;

  constructor(
    private readonly clients: readonly Client[],
    private readonly quorumSize: number,
    private readonly resourceCount: number,
    private readonly onError: (error: Error) => void,
  ) {}

  /** The engine's observer of the operation's votes. */
  readonly observe: VotesObserver = (votes: readonly NodeVote[], attempt?: number) => {
    const stats = statsOf(votes, this.clients, this.quorumSize, this.resourceCount);
    if (this.open && attempt !== undefined && attempt === this.open.attempt) this.attempts.pop();
    else this.close();
    this.open = { attempt, stats };
    this.attempts.push(Promise.resolve(stats));
  };

  /** Tells the votes against of each round at once, keeping none (for rounds nobody lists). */
  readonly tell: VotesObserver = (votes: readonly NodeVote[]) => {
    const stats = statsOf(votes, this.clients, this.quorumSize, this.resourceCount);
    for (const error of stats.votesAgainst.values()) queueMicrotask(() => this.onError(error));
  };

  /** Tells the votes against of the latest attempt (once), as it is over. */
  close(): void {
    const open = this.open;
    this.open = undefined;
    // After the engine's own handling of the votes: a throwing listener cannot disturb it.
    for (const error of open?.stats.votesAgainst.values() ?? []) {
      queueMicrotask(() => this.onError(error));
    }
  }
}
