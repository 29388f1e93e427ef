/**
 * When each command still awaiting its reply on one connection was sent, oldest first. A Redis
 * connection answers in order, so a reply answers its command and every older one, and the age
 * of the oldest tells whether the node has stopped answering (a blackhole keeps the socket
 * open). A command the client gave up on (ioredis's `commandTimeout`) stays here until a later
 * command's reply shows that the node answered it: it is still queued in the client and the
 * socket until then.
 */
export class UnansweredCommands {
  private readonly sentAt: number[] = [];
  /** Whether each command takes a hold (an acquire, an extension), in the same order. */
  private readonly takesHold: boolean[] = [];
  /** Index in the arrays of the oldest command still awaited. */
  private head = 0;
  /** Sequence number of the command at index 0 of the arrays. */
  private firstSequence = 0;
  /** How many of the awaited commands take a hold. */
  private holds = 0;
  /** Clean-ups let through while the node stalls; never more than the holds awaited. */
  private cleanups = 0;

  /** How many commands await a reply. */
  get count(): number {
    return this.sentAt.length - this.head;
  }

  /**
   * Records a command sent at `at` (monotonic ms); `takesHold` for an acquire or extension.
   * Answers its sequence number, for {@link answered}.
   */
  sent(at: number, takesHold: boolean): number {
    this.sentAt.push(at);
    this.takesHold.push(takesHold);
    if (takesHold) this.holds++;
    return this.firstSequence + this.sentAt.length - 1;
  }

  /** The node replied to command `sequence`, so to every older one too. */
  answered(sequence: number): void {
    const end = sequence - this.firstSequence + 1;
    while (this.head < end && this.head < this.sentAt.length) {
      if (this.takesHold[this.head]) this.holds--;
      this.head++;
    }
    this.cleanups = Math.min(this.cleanups, this.holds);
    if (this.head === this.sentAt.length) {
      this.firstSequence += this.sentAt.length;
      this.sentAt.length = 0;
      this.takesHold.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.sentAt.length) {
      this.sentAt.splice(0, this.head);
      this.takesHold.splice(0, this.head);
      this.firstSequence += this.head;
      this.head = 0;
    }
  }

  /**
   * Whether a release may still go to a node that stalls: no more releases than holds it was
   * sent and has not answered, so that a late acquire usually finds a clean-up behind it when
   * the node wakes up, while what is queued for the node stays bounded (no hold is sent to it
   * meanwhile). Counts the release if so.
   */
  mayCleanUp(): boolean {
    if (this.cleanups >= this.holds) return false;
    this.cleanups++;
    return true;
  }

  /**
   * Forgets every command: the connection closed, and none of them will be answered on it.
   * Sequence numbers go on, so that a late settlement of an old command answers nothing.
   */
  clear(): void {
    this.firstSequence += this.sentAt.length;
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
