import { monotonicNow, validUntil } from '../util/clock.js';
import {
  type LockError,
  type LockErrorCode,
  LockKindMismatchError,
  QuorumUnavailableError,
  ResourceLockedError,
  type LockKind,
} from '../errors/index.js';
import { fencingCounterKey } from '../scripts/keys.js';
import { Lock, type LockOwner } from '../lock.js';
import type { Tally } from '../nodes/quorum.js';
import { retryAfterMs } from './retry-after.js';
import {
  ACQUIRE_SCRIPT,
  FENCE_CONFIRM_SCRIPT,
  FENCED_ACQUIRE_SCRIPT,
  type FencedAcquireReply,
  type LuaScript,
  type QueuedAcquireReply,
  SET_IF_ABSENT,
} from '../scripts/scripts.js';
import {
  QUEUED_ACQUIRE_SCRIPT,
  QUEUED_MULTI_ACQUIRE_SCRIPT,
} from '../scripts/wait-queue-scripts.js';
import { queueKeys, readKeys } from '../scripts/keys.js';
import { QUEUED_READ_ACQUIRE_SCRIPT } from '../scripts/read-write-scripts.js';
import type { NodeClocks } from './node-clocks.js';
import { isKindClash, kindClashIn } from './kind-clash.js';

/** What one acquisition attempt needs of the engine (internal). */
export interface AttemptContext {
  /** The engine the lock belongs to. */
  readonly owner: LockOwner;
  /** How many nodes must grant. */
  readonly quorum: number;
  /** How many nodes there are. */
  readonly nodeCount: number;
  /** See `RedlockOptions.driftFactor`. */
  readonly driftFactor: number;
  /** The nodes' clocks, learned from refused queue attempts (for the queue order). */
  readonly clocks: NodeClocks;
  /**
   * Runs a script on every node and tallies the votes (fail-fast, restarted nodes vetoed).
   * `isYes` reads every reply once, late ones too, with the index of the node that sent it.
   */
  vote<Reply = number>(
    script: LuaScript,
    keys: readonly string[],
    args: readonly (string | number)[],
    isYes: (reply: Reply, index: number) => boolean,
  ): Promise<Tally<Reply>>;
}

/**
 * A failed attempt: why, and whether it may have left grants on some node (a node granted or
 * failed); if not, every node refused and nothing needs releasing. Refused by a majority before
 * the others answered, it waits for their replies (up to the node timeout) to tell.
 */
export interface FailedAttempt {
  readonly failure: AttemptFailure;
  readonly mayHaveGranted: Promise<boolean>;
  /**
   * Wait the retry delay before the next attempt, whatever wakes the waiter sooner: nodes
   * granted this attempt different slots of a semaphore, and dropping them hands them straight
   * back; attempting at once would repeat the split as fast as the nodes answer.
   */
  readonly backOff?: boolean;
}

/**
 * Why an attempt failed (internal): the code and wait the acquisition decides by, and the
 * error it throws if it gives up, made only then. Most refused attempts are followed by
 * another, and capturing an error's stack cost about as much as the rest of a refused
 * attempt's bookkeeping.
 */
export interface AttemptFailure {
  readonly code: LockErrorCode;
  /** For `RESOURCE_LOCKED`: the error's `retryAfterMs`. */
  readonly retryAfterMs: number;
  /** The error, made on first use (the same one on every use). */
  readonly error: LockError;
}

/** A failure whose error `make` makes on first use. */
function failureOf(code: LockErrorCode, make: () => LockError, retryAfterMs = 0): AttemptFailure {
  let error: LockError | undefined;
  return {
    code,
    retryAfterMs,
    get error() {
      return (error ??= make());
    },
  };
}

/** An acquire that too few nodes answered in time (or confirmed): `QUORUM_UNAVAILABLE`. */
function quorumUnavailable(
  engine: AttemptContext,
  keys: readonly string[],
  tally: Tally<unknown>,
  attempts: number,
  detail: string | undefined,
): AttemptFailure {
  const { quorum } = engine;
  return failureOf(
    'QUORUM_UNAVAILABLE',
    () =>
      new QuorumUnavailableError(
        'acquire',
        keys,
        quorum,
        tally.failures,
        attempts,
        detail,
        tally.votes(),
      ),
  );
}

/** Whether a refused vote may have left grants: resolved at once unless nodes were still out. */
export function mayHaveGranted(tally: Tally<unknown>, nodeCount: number): Promise<boolean> {
  if (tally.yes > 0 || tally.failures.length > 0) return Promise.resolve(true);
  if (tally.no === nodeCount) return Promise.resolve(false);
  return tally.late().then((late) => late.yes + late.failed > 0);
}

/**
 * Where an attempt stands in the resources' wait queues: its member and priority (`undefined`
 * while the nodes' clocks are unknown), and whether to join the queues when refused (not on a
 * last attempt, which still respects the queue, and is granted when its own entry is first in
 * line).
 */
export interface QueueSpot {
  readonly member: string;
  readonly priority: number | undefined;
  readonly join: boolean;
}

/** The queued acquire for `keys`: of one resource, or of several (all or none). */
function queuedScript(keys: readonly string[]): LuaScript {
  return keys.length === 1 ? QUEUED_ACQUIRE_SCRIPT : QUEUED_MULTI_ACQUIRE_SCRIPT;
}

/** The arguments of {@link queuedScript}: the multi-resource one also says whether it fences. */
function queuedArgs(
  keys: readonly string[],
  value: string,
  ttlMs: number,
  spot: QueueSpot,
  fencing: boolean,
): (string | number)[] {
  const args = [value, ttlMs, spot.member, spot.priority ?? '', spot.join ? '1' : '0'];
  return keys.length === 1 ? args : [...args, fencing ? '1' : '0'];
}

/**
 * The first attempt on one resource, for a free key: `SET NX PX` on every node (with `reads`,
 * the read script, which does not join the queue). The lock; `'refused'` when some node holds
 * the key (the queued attempt then follows, with the same value, so it renews the grants this
 * one may have left: sent behind it on each connection, it lands after it); or, with too many
 * nodes failing or too slow, why there is none. No waiter is made for it: a lock nobody holds
 * costs no queue bookkeeping.
 */
export async function attemptSetIfAbsent(
  engine: AttemptContext,
  keys: readonly [string],
  value: string,
  ttlMs: number,
  attempt: number,
  reads = false,
): Promise<Lock | FailedAttempt | 'refused'> {
  const startedAt = monotonicNow();
  const tally = reads
    ? await engine.vote(
        QUEUED_READ_ACQUIRE_SCRIPT,
        readKeys(keys[0]),
        // No member (no entry of its own can be ahead of it) and no joining.
        [value, ttlMs, '', '', '0'],
        isZero,
      )
    : await engine.vote(SET_IF_ABSENT, keys, [value, ttlMs], isSet);
  const expiresAt = validUntil(startedAt, ttlMs, engine.driftFactor);
  if (tally.yes >= engine.quorum && expiresAt > monotonicNow()) {
    return new Lock(engine.owner, keys, value, attempt, expiresAt);
  }
  if (tally.yes < engine.quorum && tally.failures.length <= engine.nodeCount - engine.quorum) {
    return 'refused';
  }
  return {
    failure: acquireFailure(engine, keys, ttlMs, { ...tally, replies: [] }, attempt, startedAt),
    mayHaveGranted: mayHaveGranted(tally, engine.nodeCount),
  };
}

function isSet(reply: 'OK' | null): boolean {
  return reply === 'OK';
}

function isZero(reply: unknown): boolean {
  return reply === 0;
}

/**
 * One attempt of plain Redlock: the lock, or why there is none. With `reads`, a queued attempt
 * at a read lock on one resource (shared with other readers).
 */
export async function attemptAcquire(
  engine: AttemptContext,
  keys: readonly string[],
  value: string,
  ttlMs: number,
  attempt: number,
  spot?: QueueSpot,
  reads = false,
): Promise<Lock | FailedAttempt> {
  const startedAt = monotonicNow();
  const tally = spot
    ? await engine.vote<QueuedAcquireReply>(
        reads ? QUEUED_READ_ACQUIRE_SCRIPT : queuedScript(keys),
        reads ? readKeys(keys[0]) : queueKeys(keys),
        queuedArgs(keys, value, ttlMs, spot, false),
        queuedGrant(engine.clocks),
      )
    : await engine.vote(ACQUIRE_SCRIPT, keys, [value, ttlMs], (reply) => reply === 0);
  const expiresAt = validUntil(startedAt, ttlMs, engine.driftFactor);
  if (tally.yes >= engine.quorum && expiresAt > monotonicNow()) {
    return new Lock(engine.owner, keys, value, attempt, expiresAt);
  }
  const replies = tally.replies.map(heldFor);
  const clash = { wanted: reads ? 'read' : 'mutex', found: kindClashIn(tally.replies) } as const;
  return {
    failure: acquireFailure(engine, keys, ttlMs, { ...tally, replies }, attempt, startedAt, clash),
    mayHaveGranted: mayHaveGranted(tally, engine.nodeCount),
  };
}

/**
 * One attempt with a fencing token (`docs/correctness.md` has the argument): phase 1 takes
 * the keys on a quorum and increments each resource's counter there; the token is the
 * largest counter among the grants. Phase 2 raises the counters of every reachable node to
 * the token, and the lock counts only if a quorum still holds it then, within its validity.
 * Any later grant's quorum overlaps that one, so its token is larger.
 */
export async function attemptFencedAcquire(
  engine: AttemptContext,
  keys: readonly string[],
  value: string,
  ttlMs: number,
  attempt: number,
  spot?: QueueSpot,
): Promise<Lock | FailedAttempt> {
  const startedAt = monotonicNow();
  const keysAndCounters = [...keys, ...keys.map(fencingCounterKey)];
  const isGrant = (reply: FencedAcquireReply) => reply[0] === 0;
  const granted = spot
    ? await engine.vote<FencedAcquireReply>(
        queuedScript(keys),
        [...queueKeys(keys), ...keysAndCounters.slice(keys.length)],
        queuedArgs(keys, value, ttlMs, spot, true),
        queuedGrant(engine.clocks),
      )
    : await engine.vote<FencedAcquireReply>(
        FENCED_ACQUIRE_SCRIPT,
        keysAndCounters,
        [value, ttlMs],
        isGrant,
      );
  if (
    granted.yes < engine.quorum ||
    validUntil(startedAt, ttlMs, engine.driftFactor) <= monotonicNow()
  ) {
    const replies = granted.replies.map(heldFor);
    const clash = { wanted: 'mutex', found: kindClashIn(granted.replies) } as const;
    return {
      failure: acquireFailure(
        engine,
        keys,
        ttlMs,
        { ...granted, replies },
        attempt,
        startedAt,
        clash,
      ),
      mayHaveGranted: mayHaveGranted(granted, engine.nodeCount),
    };
  }
  let token = 0n;
  for (const reply of granted.replies) {
    if (reply?.[0] !== 0) continue;
    const counter = BigInt((reply as [0, string])[1]);
    if (counter > token) token = counter;
  }
  const confirmed = await engine.vote(
    FENCE_CONFIRM_SCRIPT,
    keysAndCounters,
    [value, token.toString()],
    (reply) => reply === 1,
  );
  const expiresAt = validUntil(startedAt, ttlMs, engine.driftFactor);
  if (confirmed.yes >= engine.quorum && expiresAt > monotonicNow()) {
    return new Lock(engine.owner, keys, value, attempt, expiresAt, token);
  }
  const detail =
    `and ${confirmed.yes} confirmed the fencing token, after ` +
    `${Math.round(monotonicNow() - startedAt)} ms of the ${ttlMs} ms ttl`;
  return {
    failure: quorumUnavailable(engine, keys, confirmed, attempt, detail),
    mayHaveGranted: Promise.resolve(true),
  };
}

/**
 * Reads a queued acquire's reply, fenced or not, as it arrives: whether it is a grant (0, or
 * `[0, counter]`); a refusal's node clock is recorded on the way.
 */
export function queuedGrant(clocks: NodeClocks) {
  return (reply: QueuedAcquireReply | FencedAcquireReply, index: number): boolean => {
    if (typeof reply === 'number') return reply === 0;
    if (reply[0] === 0) return true;
    if (!isKindClash(reply)) clocks.readRefusal(reply, index);
    return false;
  };
}

/**
 * A refused acquire's number: 0 for a grant, else how long the key stays held (the first
 * element of a fenced or queued reply).
 */
export function heldFor(
  reply: number | readonly number[] | readonly [0, string] | readonly unknown[] | undefined,
): number | undefined {
  if (reply === undefined || typeof reply === 'number') return reply;
  return isKindClash(reply) ? undefined : (reply[0] as number);
}

/**
 * Why an attempt got no lock: a node holds a key as another kind of lock (`clash`, the kind
 * it named), out of validity, too few nodes, or held elsewhere.
 */
export function acquireFailure(
  engine: AttemptContext,
  keys: readonly string[],
  ttlMs: number,
  tally: Tally<number>,
  attempts: number,
  startedAt: number,
  clash?: { wanted: LockKind; found: LockKind | undefined },
): AttemptFailure {
  if (clash?.found !== undefined) {
    const { wanted, found } = clash;
    return failureOf('LOCK_KIND_MISMATCH', () => new LockKindMismatchError(keys, wanted, found));
  }
  // The tally's votes and failures are fixed at its decision: read when the error is made.
  // Granted by a quorum too late to leave any validity, or too few nodes answered.
  const tooLate = tally.yes >= engine.quorum;
  if (tooLate || tally.failures.length > engine.nodeCount - engine.quorum) {
    const detail = tooLate
      ? `and ${tally.yes} did, but only after ${Math.round(monotonicNow() - startedAt)} ms, ` +
        `which left no validity of the ${ttlMs} ms ttl`
      : undefined;
    return quorumUnavailable(engine, keys, tally, attempts, detail);
  }
  const limit = clash?.wanted.startsWith('semaphore:')
    ? Number(clash.wanted.slice('semaphore:'.length))
    : undefined;
  const retryAfter = retryAfterMs(tally, engine.quorum);
  return failureOf(
    'RESOURCE_LOCKED',
    () => new ResourceLockedError(keys, retryAfter, attempts, limit, tally.votes()),
    retryAfter,
  );
}
