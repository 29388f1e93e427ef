import { monotonicNow } from '../util/clock.js';

/** A vote's place in {@link VoteDeadlines}. */
export interface VoteDeadline {
  readonly at: number;
  /** Cleared when the vote is decided before its deadline. */
  expire: (() => void) | undefined;
}

/**
 * The deadlines of one engine's pending votes, on one timer (internal). Every vote waits the
 * same `nodeTimeoutMs`, so deadlines come in the order the votes began: a queue whose head
 * arms the timer. A vote decided in time only clears its entry, which is dropped when the
 * timer reaches it. (A timer per vote, set and then cleared a fraction of a millisecond later,
 * cost more than the rest of a vote's bookkeeping.) The timer does not keep the process
 * alive: a vote waits on commands in flight, whose connections do.
 */
export class VoteDeadlines {
  private readonly entries: VoteDeadline[] = [];
  /** Index of the first entry not yet reached. */
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /**
   * Calls `expire` at `at` (monotonic ms), unless the entry's `expire` is cleared first. Each
   * `at` must be no earlier than the one before. After {@link stop}, nothing expires.
   */
  add(at: number, expire: () => void): VoteDeadline {
    const entry: VoteDeadline = { at, expire };
    if (this.stopped) return entry;
    this.entries.push(entry);
    if (this.timer === undefined) this.arm(at);
    return entry;
  }

  /**
   * Stops the timer and forgets every entry: the engine closed, and its connections with it,
   * so every command of a vote settles at once.
   */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.entries.length = 0;
    this.head = 0;
  }

  private arm(at: number): void {
    this.timer = setTimeout(() => this.reach(), Math.max(0, at - monotonicNow())).unref();
  }

  /** Expires the entries that are due, drops the cleared ones, and re-arms for the next. */
  private reach(): void {
    this.timer = undefined;
    const now = monotonicNow();
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head];
      if (entry.expire !== undefined && entry.at > now) break;
      this.head++;
      const expire = entry.expire;
      entry.expire = undefined;
      expire?.();
    }
    if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    if (this.head < this.entries.length && this.timer === undefined) {
      this.arm(this.entries[this.head].at);
    }
  }
}
