import { monotonicNow } from '../util/clock.js';

/** How fast a node's clock is followed back: 1% of the time passing. */
export const BACKWARD_SLEW = 0.01;

/**
 * The nodes' wall clocks as one client sees them (internal), for the order of the wait queues.
 *
 * A waiter's place in a queue is when it began to wait, read on the nodes' clocks, never on
 * its client's: a client whose clock runs 10 s ahead would otherwise queue behind everyone who
 * arrives in the next 10 s, and one 10 s behind ahead of them. Each refused queue attempt
 * answers the node's time; the offset between that time and this client's monotonic clock
 * gives the node's "now" at any later moment without asking it again. The priority is the
 * median over the nodes (the lower middle of an even count), so one node whose clock is off
 * or jumps moves nobody's place; every node then orders a waiter by that same value, which is
 * what keeps a multi-resource waiter first in all its queues or in none.
 *
 * A node's clock stepping back would let waiters who come later go first, for as long as the
 * step: a step back is followed at {@link BACKWARD_SLEW} of the time passing (a node whose
 * clock runs slow by up to 1% is still followed), while a step forward is followed at once
 * (it only puts later waiters further back, where they belong).
 *
 * Only the order depends on it. Which waiter holds a lock, and for how long, is decided by the
 * nodes' keys and this client's monotonic clock, as without queues.
 */
export class NodeClocks {
  /** Per node: its wall-clock ms minus this client's monotonic ms, once learned. */
  private readonly offsets: (number | undefined)[];
  /** Per node: when its offset was last observed (monotonic ms). */
  private readonly observedAt: number[];
  /** The median of the known offsets, recomputed when one changes. */
  private medianOffset: number | undefined;

  constructor(nodeCount: number) {
    this.offsets = new Array<number | undefined>(nodeCount).fill(undefined);
    this.observedAt = new Array<number>(nodeCount).fill(0);
  }

  /**
   * Records node `index`'s clock: it read `nodeNowMs` (Unix ms) while answering a request
   * sent at `sentAt` and answered by `receivedAt` (monotonic ms); the middle of the two is the
   * best guess of when it read it.
   */
  observe(index: number, nodeNowMs: number, sentAt: number, receivedAt: number): void {
    const measured = nodeNowMs - (sentAt + receivedAt) / 2;
    const previous = this.offsets[index];
    const slowest =
      previous === undefined
        ? measured
        : previous - BACKWARD_SLEW * Math.max(0, receivedAt - this.observedAt[index]);
    this.offsets[index] = Math.max(measured, slowest);
    this.observedAt[index] = receivedAt;
    const known = this.offsets.filter((offset): offset is number => offset !== undefined);
    known.sort((a, b) => a - b);
    this.medianOffset = known[(known.length - 1) >> 1];
  }

  /**
   * Reads the replies of an acquire attempt sent at `sentAt` (monotonic ms), by node index:
   * records the clock of each node that refused a queued attempt (`[held, now]`), and answers
   * each node's number alone (0 for a grant, else how long the key stays held).
   */
  observeRefusals(
    replies: readonly (
      number | readonly [number, number | string] | readonly [number] | undefined
    )[],
    sentAt: number,
  ): (number | undefined)[] {
    const receivedAt = monotonicNow();
    return replies.map((reply, index) => {
      if (reply === undefined || typeof reply === 'number') return reply;
      if (reply[0] !== 0 && reply.length === 2) {
        this.observe(index, Number(reply[1]), sentAt, receivedAt);
      }
      return reply[0];
    });
  }

  /**
   * The queue priority of a wait that began at `startedAt` (monotonic ms): the nodes' median
   * time then, in ms; `undefined` while no node's clock is known (the nodes then use their own).
   */
  priorityAt(startedAt: number): number | undefined {
    return this.medianOffset === undefined
      ? undefined
      : Math.round((startedAt + this.medianOffset) * 1000) / 1000;
  }
}
