import { monotonicNow } from '../util/clock.js';

/**
 * How fast a node's clock is followed back: half the speed of time, so the node's time as a
 * client sees it never goes back, and waiters who come later still queue behind.
 */
export const BACKWARD_SLEW = 0.5;

/**
 * The nodes' wall clocks as one client sees them (internal), for the order of the wait queues.
 *
 * A waiter's place in a queue is when it began to wait, read on the nodes' clocks, never on
 * its client's: a client whose clock runs 10 s ahead would otherwise queue behind everyone who
 * arrives in the next 10 s, and one 10 s behind ahead of them. Each refused queue attempt
 * answers the node's time; the offset between that time and this client's monotonic clock
 * gives the node's "now" at any later moment without asking it again. The priority is the
 * median over the nodes, once a quorum of them is known (late replies count too), so one node
 * whose clock is off or jumps moves nobody's place once 3 are known (of 2, the median is their
 * average, which halves one node's error); every node then orders a waiter by that same value, which is
 * what keeps a multi-resource waiter first in all its queues or in none.
 *
 * A node reads its clock at most one reply's transit before the reply arrives, so a reading
 * can only come out early (a slow request, such as a client's first, which waits for the
 * connection, does not skew it), and the latest of the readings is the best. A node's clock
 * stepping back would let waiters who come later go first, for as long as the step: a step
 * back is followed at {@link BACKWARD_SLEW} of the time passing, a step forward at once (it only
 * puts later waiters further back).
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

  /**
   * @param nodeCount how many nodes there are.
   * @param needed how many nodes' clocks must be known before there is a priority (the
   *   quorum): fewer could not outvote one node whose clock is off.
   */
  constructor(
    nodeCount: number,
    private readonly needed = 1,
  ) {
    this.offsets = new Array<number | undefined>(nodeCount).fill(undefined);
    this.observedAt = new Array<number>(nodeCount).fill(0);
  }

  /**
   * Records node `index`'s clock: it read `nodeNowMs` (Unix ms) at most one reply's transit
   * before its answer arrived, at `receivedAt` (monotonic ms).
   */
  observe(index: number, nodeNowMs: number, receivedAt: number): void {
    if (!Number.isFinite(nodeNowMs)) return;
    const measured = nodeNowMs - receivedAt;
    const previous = this.offsets[index];
    const elapsed = Math.max(0, receivedAt - this.observedAt[index]);
    this.offsets[index] =
      previous === undefined ? measured : Math.max(measured, previous - BACKWARD_SLEW * elapsed);
    this.observedAt[index] = receivedAt;
    const known = this.offsets.filter((offset): offset is number => offset !== undefined);
    if (known.length < this.needed) return;
    known.sort((a, b) => a - b);
    const middle = known.length >> 1;
    this.medianOffset =
      known.length % 2 === 1 ? known[middle] : (known[middle - 1] + known[middle]) / 2;
  }

  /**
   * Reads one node's reply to a queued acquire, as it arrives: a refusal,
   * `[held, now]`, records that node's clock, read as the reply arrives, and answers true;
   * anything else (a grant) answers false.
   */
  readRefusal(reply: number | readonly (number | string)[], index: number): boolean {
    if (typeof reply === 'number' || reply.length !== 2 || reply[0] === 0) return false;
    this.observe(index, Number(reply[1]), monotonicNow());
    return true;
  }

  /**
   * The queue priority of a wait that began at `startedAt` (monotonic ms): the nodes' median
   * time then, in ms; `undefined` while fewer than a quorum of the nodes' clocks are known (the
   * nodes then use their own).
   */
  priorityAt(startedAt: number): number | undefined {
    return this.medianOffset === undefined
      ? undefined
      : Math.round((startedAt + this.medianOffset) * 1000) / 1000;
  }
}
