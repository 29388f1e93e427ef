import {
  attemptAcquire,
  attemptFencedAcquire,
  attemptSetIfAbsent,
  type AttemptContext,
  type FailedAttempt,
  type QueueSpot,
} from './acquire-attempt.js';
import { MAX_TIMER_MS } from '../util/arguments.js';
import { monotonicNow, validUntil } from '../util/clock.js';
import { Lock, lockState } from '../lock.js';
import { newLockValue, newPermitValue, newReaderValue } from './lock-value.js';
import { attemptPermit, type PermitSearch } from './permit-attempt.js';
import type { RedisNode } from '../nodes/redis-node.js';
import { releaseCall, stayCall, type PermitRelease, type ScriptCall } from './release-call.js';
import { sleep } from '../util/sleep.js';
import { Waiter } from './waiter.js';
import type { VotesObserver } from '../votes-observer.js';

/** What an acquisition needs of the engine (internal). */
export interface AcquisitionContext extends AttemptContext {
  readonly nodes: readonly RedisNode[];
  /** Whether the nodes keep wait queues and announce releases (not with a Redis Cluster node). */
  readonly usesQueues: boolean;
  /** This instance's inbox: the name its waiters hear their hand-offs under. */
  readonly inbox: string;
  /** Aborts when the engine closes. */
  readonly closing: AbortSignal;
  /** Runs a release on every node and waits for each (up to the node timeout). */
  releaseEverywhere(call: ScriptCall): Promise<void>;
  /**
   * Runs a release on every node without waiting for it; `quit()` waits for it before it
   * closes the connections.
   */
  releaseInBackground(call: ScriptCall): void;
}

/** The settings of one acquisition, per-call options merged over the engine's. */
export interface AcquisitionSettings {
  readonly ttlMs: number;
  readonly retryCount: number;
  readonly retryDelayMs: number;
  readonly retryJitterMs: number;
  readonly waitMs: number;
  readonly fencing: boolean;
  /** A read lock: shared with other readers (one resource, with queues, never fenced). */
  readonly reads: boolean;
  /**
   * A semaphore permit, of a semaphore of this many permits (one resource, with queues, never
   * fenced); undefined for other locks.
   */
  readonly permits?: number;
  readonly signal: AbortSignal | undefined;
  /** Told the votes of every round and hand-off (internal: compat module, telemetry). */
  readonly onVotes?: VotesObserver;
  /** Set to queued once a refused attempt waits in line (internal: telemetry). */
  readonly progress?: { queued: boolean };
}

/**
 * Acquires `keys`, attempting until granted or out of retries, and waiting in between.
 *
 * With queues (no Redis Cluster node), resources are acquired in queue order: a refused
 * attempt joins each resource's wait queue on each node, and a release hands the key to the
 * first waiter and announces it, so the waiter holds the lock once a quorum announced it,
 * without another attempt. A waiter that must take the lock itself (fenced, or several
 * resources, taken all at once) is handed the key too, which keeps it from newcomers, and is
 * woken to take it. The retry delay stays as the fallback: a lost announcement costs at most one
 * delay. A waiter that gives up leaves the queues and passes on what was handed to it; one
 * that crashes lapses after its ttl.
 *
 * @throws the last attempt's error when the retries run out, or the signal's reason.
 */
export async function acquireWithRetries(
  context: AcquisitionContext,
  keys: readonly string[],
  settings: AcquisitionSettings,
): Promise<Lock> {
  /** The attempt under way, as the caller counts them (for `onVotes`). */
  let attemptNow = 1;
  const engine = settings.onVotes ? observed(context, settings.onVotes, () => attemptNow) : context;
  const { ttlMs, retryCount, fencing } = settings;
  const startedAt = monotonicNow();
  let value = newValueOf(settings)();
  const permit: PermitRelease | undefined =
    settings.permits === undefined ? undefined : { limit: settings.permits };
  const search: PermitSearch = { preferred: undefined, attempted: false };
  /**
   * Whether the next attempt is the plain first one: one free key (the common case) takes a
   * plain SET NX PX (a read lock: the read script, without joining the queue) and no queue
   * bookkeeping. Refused, the queued attempt follows at once.
   */
  // A permit's first attempt is the queued one: its script takes a free slot of an idle
  // semaphore as cheaply, and joins the queue when refused, saving a round trip.
  let setIfAbsent = engine.usesQueues && keys.length === 1 && !fencing && permit === undefined;
  let waiter: Waiter | undefined;
  const deadline = startedAt + settings.waitMs;
  const signals = [settings.signal, engine.closing];
  /** Whether a failed attempt may have left grants or a queue entry behind. */
  let mayHold = false;
  /** Whether an attempt may have queued this waiter on some node. */
  let joined = false;
  /** Retries used: attempts after a delay or a notice, not the looks the engine adds. */
  let retries = 0;
  let nextIsRetry = false;
  try {
    for (;;) {
      if (nextIsRetry) retries++;
      // The attempts the caller counts: the first and each retry (a look repeats its number).
      const attempt = retries + 1;
      attemptNow = attempt;
      const willRetry =
        (retryCount === -1 || retries < retryCount) && deadline - monotonicNow() > 0;
      if (!setIfAbsent && engine.usesQueues && waiter === undefined) {
        waiter = newWaiter(engine, keys, settings, value, startedAt);
        // A hand-off can follow a queued attempt at once: the waiter listens before sending.
        waiter.listen();
      }
      // The slot of a semaphore the nodes told this waiter they handed it, if they did.
      if (permit) search.preferred = waiter?.handedSlot() ?? search.preferred;
      waiter?.attempting();
      const attemptStartedAt = monotonicNow();
      const spot: QueueSpot | undefined = waiter
        ? { member: waiter.member, priority: waiter.priority, join: willRetry }
        : undefined;
      let outcome: Lock | FailedAttempt | 'refused';
      if (permit) {
        outcome = await attemptPermit(
          engine,
          keys[0],
          permit.limit,
          value,
          ttlMs,
          attempt,
          search,
          spot!, // a permit's acquisition always has a waiter (it never takes the plain path)
        );
      } else if (setIfAbsent) {
        setIfAbsent = false;
        outcome = await attemptSetIfAbsent(
          engine,
          keys as [string],
          value,
          ttlMs,
          attempt,
          settings.reads,
        );
      } else if (fencing) {
        outcome = await attemptFencedAcquire(engine, keys, value, ttlMs, attempt, spot);
      } else {
        outcome = await attemptAcquire(engine, keys, value, ttlMs, attempt, spot, settings.reads);
      }
      if (outcome === 'refused') {
        // Held: the queued attempt, at once and with the same value (it renews any grants of
        // this one), joins the queue and learns how long the key stays held.
        nextIsRetry = false;
        continue;
      }
      // An attempt that may join the queue may have joined on a node that refused it, even
      // when the others granted it the lock; from then on, it may also be handed the key.
      joined ||= spot?.join === true;
      nextIsRetry = true;
      if (outcome instanceof Lock) return granted(outcome, waiter, joined, startedAt);
      const mayHaveGranted = await outcome.mayHaveGranted;
      mayHold = mayHaveGranted || joined;
      const remainingMs = deadline - monotonicNow();
      // A key used as another kind of lock stays so: waiting would not help.
      const { failure } = outcome;
      const clash = failure.code === 'LOCK_KIND_MISMATCH';
      if (!willRetry || remainingMs <= 0 || clash) {
        if (mayHold) await leave(engine, keys, value, waiter, permit);
        mayHold = false;
        throw failure.error;
      }
      if (mayHaveGranted) {
        value = await dropGrants(engine, keys, value, ttlMs, waiter, permit);
        mayHold = joined;
      }

      const delayMs = Math.min(
        settings.retryDelayMs + Math.floor(Math.random() * (settings.retryJitterMs + 1)),
        MAX_TIMER_MS,
      );
      if (waiter === undefined || outcome.backOff) {
        await sleep(Math.min(delayMs, remainingMs), signals);
        continue;
      }
      waiter.subscribe();
      // Refused, and now waiting in line for its turn.
      if (settings.progress) settings.progress.queued = true;
      // Attempt at least every half ttl all the same: attempts renew the queue entry, which
      // lapses after a ttl.
      const latestAt = Math.min(deadline, attemptStartedAt + ttlMs / 2);
      // The fallback comes no later than the holder's key expires.
      const heldForMs = failure.code === 'RESOURCE_LOCKED' ? failure.retryAfterMs : delayMs;
      const woke = await waiter.wait(Math.min(delayMs, heldForMs), latestAt, signals);
      // A look taken because the subscriptions just came into effect (notices before them were
      // missed) is the engine's own: it uses up no retry of the caller's.
      nextIsRetry = woke !== 'subscribed';
      const handed = woke === 'handed' && handedOver(engine, keys, value, ttlMs, attempt, waiter);
      if (handed) {
        // The refused attempt stays as it was; the hand-off is the next.
        settings.onVotes?.(waiter.handOffVotes(), attempt + 1);
        mayHold = false;
        return granted(handed, waiter, true, startedAt);
      }
    }
  } catch (error) {
    if (mayHold) await leave(engine, keys, value, waiter, permit);
    throw error;
  } finally {
    waiter?.stop();
  }
}

/**
 * `engine`, telling `onVotes` what the nodes answered to each round of votes it sends, and
 * which attempt that round belongs to.
 */
function observed(
  engine: AcquisitionContext,
  onVotes: VotesObserver,
  attempt: () => number,
): AcquisitionContext {
  return {
    ...engine,
    vote: async (script, keys, args, isYes) => {
      const tally = await engine.vote(script, keys, args, isYes);
      onVotes(tally.votes(), attempt());
      return tally;
    },
  };
}

/** The waiter of an acquisition that has to wait, or at least look at the queues. */
function newWaiter(
  engine: AcquisitionContext,
  keys: readonly string[],
  settings: AcquisitionSettings,
  value: string,
  startedAt: number,
): Waiter {
  const settingsOfWaiter = {
    nodes: engine.nodes,
    quorum: engine.quorum,
    resources: keys,
    handOffTtlMs: settings.ttlMs,
    // Fenced, several resources (taken all at once), a reader (which puts the readers' marker
    // in its value's place), or a permit (whose slot must be the same on a quorum): woken by a
    // hand-off.
    takesLockItself:
      keys.length > 1 || settings.fencing || settings.reads || settings.permits !== undefined,
    newValue: newValueOf(settings),
    // A permit's attempt needs its slot handed on a quorum: woken by the first notice, it
    // would mostly find the other nodes not there yet.
    wakeOnQuorum: settings.permits !== undefined,
    inbox: engine.inbox,
    clocks: engine.clocks,
  };
  return new Waiter(settingsOfWaiter, value, startedAt);
}

/** How the acquisition's lock values are made: a reader's and a permit's are marked. */
function newValueOf(settings: AcquisitionSettings): () => string {
  if (settings.permits !== undefined) return newPermitValue;
  return settings.reads ? newReaderValue : newLockValue;
}

/**
 * The lock, if a quorum of nodes announced handing it to `waiter`'s current value. Handed over
 * after the value was first sent, so valid from then at least. If most of that validity is
 * gone (a long wait), there is none: the next attempt confirms it afresh (the key holds this
 * waiter's value, and the attempt renews it).
 */
function handedOver(
  engine: AcquisitionContext,
  keys: readonly string[],
  value: string,
  ttlMs: number,
  attempt: number,
  waiter: Waiter,
): Lock | undefined {
  if (!waiter.handedByQuorum()) return undefined;
  const expiresAt = validUntil(waiter.valueSentAt, ttlMs, engine.driftFactor);
  if (expiresAt - monotonicNow() < ttlMs / 2) return undefined;
  return new Lock(engine.owner, keys, value, attempt, expiresAt);
}

/**
 * Notes on a lock when its acquisition began, and, if its holder waited in the queues, the
 * member its release must remove.
 */
function granted(
  lock: Lock,
  waiter: Waiter | undefined,
  joined: boolean,
  acquiringSince: number,
): Lock {
  const state = lockState(lock);
  state.acquiringSince = acquiringSince;
  if (joined && waiter) state.queueMember = waiter.member;
  return lock;
}

/**
 * Drops what a failed attempt may have been granted, so that split grants cannot block each
 * other until they expire, and answers the value to go on with. A queued waiter keeps its
 * place under a new value: announcements of the old one, which the drop deletes, no longer
 * count.
 */
async function dropGrants(
  engine: AcquisitionContext,
  keys: readonly string[],
  value: string,
  ttlMs: number,
  waiter: Waiter | undefined,
  permit: PermitRelease | undefined,
): Promise<string> {
  if (!waiter) {
    // Sent behind the acquire on each connection, so it lands after any late grant.
    await engine.releaseEverywhere(releaseCall(engine.usesQueues, keys, value, undefined, permit));
    return value;
  }
  const sentAt = monotonicNow();
  const { previousMember } = waiter.renew(sentAt);
  await engine.releaseEverywhere(
    stayCall(keys, value, previousMember, waiter.member, waiter.priority, ttlMs, permit),
  );
  return waiter.value;
}

/** Gives up: leaves the queues, and releases (passing on) whatever this value was granted. */
async function leave(
  engine: AcquisitionContext,
  keys: readonly string[],
  value: string,
  waiter: Waiter | undefined,
  permit: PermitRelease | undefined,
): Promise<void> {
  await engine.releaseEverywhere(
    releaseCall(engine.usesQueues, keys, value, waiter?.member, permit),
  );
}
