/**
 * What the fault-suite workers record, one event per step, with times in milliseconds on the
 * machine's monotonic clock (`process.hrtime`, shared by every process on the machine).
 * Tokens travel as decimal strings (JSON has no bigint).
 */
export type HistoryEvent = Grant | Release | Access | Refusal;

/** A lock was granted: valid from `at` until `validUntil`. */
export interface Grant {
  readonly type: 'grant';
  readonly worker: number;
  /** Unique per grant: the lock's random value. */
  readonly lock: string;
  /** When `acquire()` was called (its first round started at or after this). */
  readonly startedAt: number;
  /** When `acquire()` returned. */
  readonly at: number;
  /** `at + lock.validityMs`: when the holder must stop relying on the lock. */
  readonly validUntil: number;
  readonly token?: string;
  /** `'read'` for a read lock (shared with other readers); exclusive otherwise. */
  readonly mode?: 'read';
}

/** The holder gave the lock up (recorded before `release()` is sent). */
export interface Release {
  readonly type: 'release';
  readonly worker: number;
  readonly lock: string;
  readonly at: number;
}

/** A read or write of the protected counter that the storage accepted. */
export interface Access {
  readonly type: 'read' | 'write';
  readonly worker: number;
  readonly lock: string;
  /** When the request was sent. */
  readonly sentAt: number;
  /** When its answer came back. */
  readonly at: number;
  /** The value read, or written. */
  readonly value: number;
  readonly token?: string;
}

/** A read or write that the fenced storage refused (stale token). */
export interface Refusal {
  readonly type: 'refused';
  readonly worker: number;
  readonly lock: string;
  readonly sentAt: number;
  readonly at: number;
  readonly token: string;
}

/** The shared monotonic clock, in milliseconds. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
