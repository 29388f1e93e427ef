/**
 * When each command still awaiting its reply on one connection was sent, oldest first. A Redis
 * connection answers in order, so the oldest is always the next to be answered, and its age
 * tells whether the node has stopped answering (a blackhole keeps the socket open).
 */
export class UnansweredCommands {
  private readonly sentAt: number[] = [];
  /** Whether each command takes a hold (an acquire, an extension), in the same order. */
  private readonly takesHold: boolean[] = [];
  private head = 0;
  /** How many of the commands take a hold. */
  private holds = 0;
  /** Clean-ups let through while the node stalls; never more than the holds awaiting. */
  private cleanups = 0;

  /** How many commands await a reply. */
  get count(): number {
    return this.sentAt.length - this.head;
  }

  /** Records a command sent at `at` (monotonic ms); `takesHold` for an acquire or extension. */
  sent(at: number, takesHold: boolean): void {
    this.sentAt.push(at);
    this.takesHold.push(takesHold);
    if (takesHold) this.holds++;
  }

  /** Records the reply (or failure) of the oldest command. */
  answered(): void {
    if (this.takesHold[this.head]) {
      this.holds--;
      this.cleanups = Math.min(this.cleanups, this.holds);
    }
    this.head++;
    if (this.head === this.sentAt.length) {
      this.clear();
    } else if (this.head > 1024 && this.head * 2 > this.sentAt.length) {
      this.sentAt.splice(0, this.head);
      this.takesHold.splice(0, this.head);
      this.head = 0;
    }
  }

  /**
   * Whether a release may still go to a node that stalls: one per hold it was sent and has not
   * answered, so that a late acquire finds its clean-up behind it when the node wakes up,
   * while what is queued for the node stays bounded (no hold is sent to it meanwhile).
   * Counts the release if so.
   */
  mayCleanUp(): boolean {
    if (this.cleanups >= this.holds) return false;
    this.cleanups++;
    return true;
  }

  /** Forgets every command: the connection closed, and none of them will be answered on it. */
  clear(): void {
    this.sentAt.length = 0;
    this.takesHold.length = 0;
    this.head = 0;
    this.holds = 0;
    this.cleanups = 0;
  }

  /** How long the oldest command has waited at `now`, or 0 if none waits. */
  oldestWaitMs(now: number): number {
    return this.count === 0 ? 0 : now - this.sentAt[this.head];
  }
}
