import { monotonicNow } from '../util/clock.js';
import { NodeRestartedError } from '../errors/index.js';

/** What a {@link RestartWatch} needs from its node (internal). */
export interface RestartWatchSettings {
  /** The node, as `host:port`, for errors and events. */
  readonly label: string;
  /** How long after a restart the node's votes for a hold do not count (0: never watched). */
  readonly restartDelayMs: number;
  /** Told when the node is found to have restarted, with how long its votes stay uncounted. */
  readonly onRestart: (node: string, uncountedForMs: number) => void;
}

/**
 * Notices that one node restarted, from its `run_id`, and keeps its votes for acquiring,
 * extending or confirming a token out for `restartDelayMs` after its start: a node restarted
 * without its data may have lost the keys of locks that are still valid elsewhere, and could
 * grant them again (the Redlock spec's delayed restart, done by the client). Only a run_id
 * seen before can change: a node first met after its restart looks like a new one.
 */
export class RestartWatch {
  private runId: string | undefined;
  /** How many INFO replies are awaited on the current lock connection. */
  private pending = 0;
  /** Counts the lock connections: a reply for an earlier, closed one settles nothing. */
  private connection = 0;
  /** Until when (monotonic ms) the node's votes do not count. */
  private uncountedUntil = 0;

  constructor(private readonly settings: RestartWatchSettings) {}

  /**
   * Reads the server's run_id and uptime from the INFO sent on a connection that just became
   * ready. Its reply comes before those of the commands sent after it, so no vote is counted
   * unchecked.
   */
  connected(info: Promise<string>): void {
    if (this.settings.restartDelayMs <= 0) return;
    this.pending++;
    const connection = this.connection;
    info.then(
      (info) => {
        if (connection !== this.connection) return;
        this.pending--;
        this.identify(info);
      },
      (error: unknown) => {
        if (connection !== this.connection) return;
        // INFO may be renamed or denied by an ACL: restarts then go unnoticed (the node
        // warns of it, and documents the cost).
        void error;
        this.pending--;
      },
    );
  }

  /**
   * The lock connection closed: the INFO replies awaited on it will never come (commands are
   * not re-sent), and the next connection reads the identity afresh.
   */
  disconnected(): void {
    this.connection++;
    this.pending = 0;
  }

  /**
   * Why the node's vote for a hold must not count now, or `undefined` if it counts: it
   * restarted less than `restartDelayMs` ago, or its run_id is still being read.
   */
  uncountedReason(): NodeRestartedError | undefined {
    const { label } = this.settings;
    if (this.pending > 0) {
      return new NodeRestartedError(label, 'its run_id is still being read after a reconnection');
    }
    if (this.uncountedUntil === 0) return undefined;
    const remainingMs = this.uncountedUntil - monotonicNow();
    if (remainingMs <= 0) {
      this.uncountedUntil = 0;
      return undefined;
    }
    return new NodeRestartedError(
      label,
      `it restarted, so its votes count again in ${Math.ceil(remainingMs)} ms (restartDelayMs)`,
    );
  }

  private identify(info: string): void {
    const runId = /^run_id:(\w+)/m.exec(info)?.[1];
    const uptimeSeconds = Number(/^uptime_in_seconds:(\d+)/m.exec(info)?.[1] ?? 0);
    if (runId === undefined) return;
    const previous = this.runId;
    this.runId = runId;
    if (previous === undefined || previous === runId) return;
    // uptime_in_seconds is whole seconds between two wall-clock readings: the true uptime may
    // be almost a second less, so count one second less (the delay errs long).
    const surelyUpMs = Math.max(0, uptimeSeconds - 1) * 1000;
    const uncountedForMs = this.settings.restartDelayMs - surelyUpMs;
    if (uncountedForMs <= 0) return;
    this.uncountedUntil = monotonicNow() + uncountedForMs;
    this.settings.onRestart(this.settings.label, uncountedForMs);
  }
}
