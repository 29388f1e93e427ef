import { monotonicNow } from '../util/clock.js';

/** A pending vote's deadline in {@link VoteDeadlines}. */
export interface VoteDeadline {
  readonly at: number;
  readonly expire: () => void;
  previous: VoteDeadline | undefined;
  next: VoteDeadline | undefined;
}

/**
 * The deadlines of one engine's pending votes, on one timer (internal). Every vote waits the
 * same `nodeTimeoutMs`, so deadlines come in the order the votes began: a list whose head arms
 * the timer. A vote decided in time leaves the list at once (so its entry dies young, as the
 * rest of the vote does), and the timer, when it fires early, re-arms for the new head. (A
 * timer per vote, set and then cleared a fraction of a millisecond later, cost more than the
 * rest of a vote's bookkeeping.) The timer does not keep the process alive: a vote waits on
 * commands in flight, whose connections do.
 */
export class VoteDeadlines {
  private head: VoteDeadline | undefined;
  private tail: VoteDeadline | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /**
   * Calls `expire` at `at` (monotonic ms), unless {@link cancel} is called first. Each `at`
   * must be no earlier than the one before. After {@link stop}, nothing expires.
   */
  add(at: number, expire: () => void): VoteDeadline {
    const entry: VoteDeadline = { at, expire, previous: this.tail, next: undefined };
    if (this.stopped) return entry;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    if (this.timer === undefined) this.arm(at);
    return entry;
  }

  /** Takes `entry` off the list: its vote was decided in time. Safe to call more than once. */
  cancel(entry: VoteDeadline): void {
    if (entry.previous) entry.previous.next = entry.next;
    else if (this.head === entry) this.head = entry.next;
    else return; // not on the list (expired, cancelled, or added after stop)
    if (entry.next) entry.next.previous = entry.previous;
    else this.tail = entry.previous;
    entry.previous = undefined;
    entry.next = undefined;
  }

  /**
   * Stops the timer and forgets every entry: the engine closed, and its connections with it,
   * so every command of a vote settles at once.
   */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.head = undefined;
    this.tail = undefined;
  }

  private arm(at: number): void {
    this.timer = setTimeout(() => this.reach(), Math.max(0, at - monotonicNow())).unref();
  }

  /** Expires the entries that are due, then re-arms for the next. */
  private reach(): void {
    this.timer = undefined;
    const now = monotonicNow();
    while (this.head !== undefined && this.head.at <= now) {
      const entry = this.head;
      this.cancel(entry);
      entry.expire();
    }
    if (this.head !== undefined && this.timer === undefined) this.arm(this.head.at);
  }
}
