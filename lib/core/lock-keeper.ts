import { isLockError, LockLostError } from './errors/index.js';
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
 *
 * When the holder is told to stop ({@link giveUp}: its caller went away), the signal aborts
 * with that reason and extending stops, but the lock is not released: the work may still be
 * running. It then lapses by its ttl unless the work settles first.
 */
export class LockKeeper {
  private readonly controller = new AbortController();
  private extendTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> | undefined;
  private markEnded!: () => void;
  /** Resolves once the lock is gone for this keeper: lost, expired, or the engine closed. */
  readonly ended = new Promise<void>((resolve) => (this.markEnded = resolve));
  /** No more extensions: stopped, lost, or given up. */
  private extending = true;
  /** Nothing more at all: the expiry is not watched either. */
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

  /** Aborted, with the reason, once the lock can no longer be guaranteed or the holder gave up. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The lock is gone (lost, or the engine closed): aborts the signal and stops everything. */
  abort(reason: Error): void {
    this.stopped = true;
    this.extending = false;
    this.clearTimers();
    if (!this.controller.signal.aborted) this.controller.abort(reason);
    this.markEnded();
  }

  /**
   * The holder should stop (its caller went away): aborts the signal with `reason` and stops
   * extending, so that an abandoned lock lapses within its ttl. The expiry is still watched:
   * the lock is reported lost when its validity runs out before the work settles.
   */
  giveUp(reason: unknown): void {
    if (this.stopped) return;
    this.extending = false;
    clearTimeout(this.extendTimer);
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** The lock's validity changed (an extension, or a failed one that may have shortened it). */
  validityChanged(): void {
    if (!this.stopped) this.armExpiry(this.lock.validityMs);
  }

  /** Stops extending and waits for an extension already under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.extending = false;
    this.clearTimers();
    await this.inFlight;
  }

  private schedule(): void {
    if (this.stopped) return;
    const validityMs = this.lock.validityMs;
    this.armExpiry(validityMs);
    clearTimeout(this.extendTimer);
    if (!this.extending) return;
    this.extendTimer = setTimeout(() => this.extend(), Math.max(0, validityMs - this.thresholdMs));
    this.extendTimer.unref();
  }

  private extend(): void {
    if (!this.extending) return;
    this.inFlight = this.host.extend(this.lock, this.ttlMs).then(
      () => this.schedule(),
      (error: unknown) => {
        if (this.stopped) return;
        if (isLockError(error, 'LOCK_LOST')) {
          this.abort(error);
          return;
        }
        if (!this.extending) return;
        // Too few nodes answered; the lock may still be held. Try again while it is valid:
        // the expiry timer (armed anew by the engine, since the failed extension may have
        // shortened the validity) aborts the signal if that never succeeds.
        const retryInMs = Math.min(this.retryDelayMs, Math.max(0, this.lock.validityMs - 1));
        this.extendTimer = setTimeout(() => this.extend(), retryInMs);
        this.extendTimer.unref();
      },
    );
  }

  private armExpiry(validityMs: number): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.expire(), validityMs);
    this.expiryTimer.unref();
  }

  private expire(): void {
    if (this.stopped) return;
    const error = new LockLostError(
      this.lock.resources,
      this.extending
        ? 'it expired before it could be extended (too few nodes answered in time)'
        : 'it expired after its holder was told to stop, before the holder settled',
    );
    this.host.markLost(this.lock, error);
    this.abort(error);
  }

  private clearTimers(): void {
    clearTimeout(this.extendTimer);
    clearTimeout(this.expiryTimer);
  }
}
