/**
 * When each command still awaiting its reply on one connection was sent, oldest first. A Redis
 * connection answers in order, so the oldest is always the next to be answered, and its age
 * tells whether the node has stopped answering (a blackhole keeps the socket open).
 */
export class UnansweredCommands {
  private readonly sentAt: number[] = [];
  private head = 0;

  /** How many commands await a reply. */
  get count(): number {
    return this.sentAt.length - this.head;
  }

  /** Records a command sent at `at` (monotonic ms). */
  sent(at: number): void {
    this.sentAt.push(at);
  }

  /** Records the reply (or failure) of the oldest command. */
  answered(): void {
    this.head++;
    if (this.head === this.sentAt.length) {
      this.sentAt.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.sentAt.length) {
      this.sentAt.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Forgets every command: the connection closed, and none of them will be answered on it. */
  clear(): void {
    this.sentAt.length = 0;
    this.head = 0;
  }

  /** How long the oldest command has waited at `now`, or 0 if none waits. */
  oldestWaitMs(now: number): number {
    return this.count === 0 ? 0 : now - this.sentAt[this.head];
  }
}
