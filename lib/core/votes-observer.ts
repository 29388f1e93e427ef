import type { NodeVote } from './errors/node-vote.js';

/**
 * @internal Told what each node answered to every round of votes an operation sends (in node
 * order), and to a hand-off (which nodes announced it); for an acquisition, with the number of
 * the attempt (the first, or a retry) the round belongs to: an attempt can take several rounds
 * (a plain SET NX, then the queued one; a look after subscribing). For the compat module, whose
 * locks and errors list each attempt's votes, as node-redlock's do; not part of the public API.
 */
export type VotesObserver = (votes: readonly NodeVote[], attempt?: number) => void;

/**
 * @internal The key under which an acquire's options carry a {@link VotesObserver}. A symbol:
 * no user's option can collide with it, and it is not among the documented options.
 */
export const OBSERVE_VOTES: unique symbol = Symbol('nestjs-redlock.observeVotes');

/** @internal Options that may carry a {@link VotesObserver}. */
export interface ObservedOptions {
  readonly [OBSERVE_VOTES]?: VotesObserver;
}
