import { LockLostError } from './errors/index.js';
import type { Lock } from './lock.js';

/** What the keeper needs from the engine. */
export interface KeeperHost {
  extend(lock: Lock, ttlMs: number): Promise<Lock>;
  markLost(lock: Lock, error: LockLostError): void;
}

/**
 * Keeps a lock alive while work runs under it, for `Redlock.using()`: extends it when its
 * validity falls below the threshold, retries an extension that failed for want of nodes while
 * validity remains, and aborts `signal` (with a `LockLostError`) the moment the lock can no
 * longer be guaranteed, whether it was found gone or simply ran out of validity.
 */
export class LockKeeper {
  private readonly controller = new AbortController();
  private extendTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly host: KeeperHost,
    private readonly lock: Lock,
    private readonly ttlMs: number,
    private readonly thresholdMs: number,
    private readonly retryDelayMs: number,
  ) {
    this.schedule();
  }

  /** Aborted, with the reason, once the lock can no longer be guaranteed. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Aborts the signal with `reason` and stops extending. */
  abort(reason: Error): void {
    this.clearTimers();
    this.stopped = true;
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** Stops extending and waits for an extension already under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    await this.inFlight;
  }

  private schedule(): void {
    this.clearTimers();
    if (this.stopped) return;
    const validityMs = this.lock.validityMs;
    this.expiryTimer = setTimeout(() => this.expire(), validityMs);
    this.expiryTimer.unref();
    this.extendTimer = setTimeout(() => this.extend(), Math.max(0, validityMs - this.thresholdMs));
    this.extendTimer.unref();
  }

  private extend(): void {
    if (this.stopped) return;
    this.inFlight = this.host.extend(this.lock, this.ttlMs).then(
      () => this.schedule(),
      (error: unknown) => {
        if (this.stopped) return;
        if (error instanceof LockLostError) {
          this.abort(error);
          return;
        }
        // Too few nodes answered; the lock may still be held. Try again while it is valid:
        // the expiry timer, still armed, aborts the signal if that never succeeds.
        const retryInMs = Math.min(this.retryDelayMs, Math.max(0, this.lock.validityMs - 1));
        this.extendTimer = setTimeout(() => this.extend(), retryInMs);
        this.extendTimer.unref();
      },
    );
  }

  private expire(): void {
    if (this.stopped) return;
    const error = new LockLostError(
      this.lock.resources,
      'it expired before it could be extended (too few nodes answered in time)',
    );
    this.host.markLost(this.lock, error);
    this.abort(error);
  }

  private clearTimers(): void {
    clearTimeout(this.extendTimer);
    clearTimeout(this.expiryTimer);
  }
}
