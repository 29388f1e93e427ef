import { monotonicNow, validUntil } from '../util/clock.js';
import { Lock } from '../lock.js';
import type { Tally } from '../nodes/quorum.js';
import { queueKeys, SEMAPHORE_ACQUIRE_SCRIPT } from '../scripts/index.js';
import {
  acquireFailure,
  type AttemptContext,
  type FailedAttempt,
  heldFor,
  mayHaveGranted,
  type QueueSpot,
} from './acquire-attempt.js';
import { isKindClash, kindClashIn, type KindClashReply } from './kind-clash.js';
import { trimCall, type ScriptCall } from './release-call.js';

/** A node's answer to the semaphore acquire: the slot granted, a refusal, or a kind clash. */
type PermitReply = number | readonly [number, number] | KindClashReply;

/** Where a semaphore acquisition stands between its attempts (internal). */
export interface PermitSearch {
  /** The slot most nodes granted the last attempt, which the next one asks each node for. */
  preferred: number | undefined;
  /**
   * Whether an attempt was sent: after the first, the value may hold or have been handed a
   * slot on a node, so no node may take a free slot for it without looking at every slot.
   */
  attempted: boolean;
}

/**
 * One attempt at a permit of the semaphore `key` (internal): every node grants a slot, or
 * refuses. The permit is a slot that a quorum granted, within the validity. Votes count for
 * the slot the first grant named, so a vote decided early has a quorum on it, and the slots of
 * the replies that did arrive are counted all the same: a quorum may have granted another.
 *
 * Nodes can grant one value different slots (releases reach them in different orders, so
 * they hand their freed slots to the waiters in different orders; partial grants of others
 * remain). Then the attempt asks every node which slots it has open for the value (free,
 * only handed out, or its own), and, if a quorum has one open, asks every node for it: a node
 * moves the value there if that slot is free or only handed to another waiter (the two change
 * places), so the split resolves within the attempt, in two more round trips. Grants left on other slots are the acquisition's to drop, by value, as a
 * mutex's split grants are.
 *
 * Every attempt is a queued one (`spot`): refused, it joins the queue; on a semaphore nobody
 * waits for, a first attempt costs the nodes no more than a plain `SET NX` of a slot would.
 */
export async function attemptPermit(
  engine: AttemptContext & { releaseInBackground(call: ScriptCall): void },
  key: string,
  limit: number,
  value: string,
  ttlMs: number,
  attempt: number,
  search: PermitSearch,
  spot: QueueSpot,
): Promise<Lock | FailedAttempt> {
  const startedAt = monotonicNow();
  let granted = false;
  /** Whether a node granted another slot than the one a quorum agreed on, in some round. */
  let split = false;
  const grants = new GrantWatch(() =>
    engine.releaseInBackground(trimCall(key, value, limit, slot!)),
  );
  let tally: Tally<PermitReply> | undefined;
  let slot: number | undefined;
  for (let round = 0; round < 2 && slot === undefined; round++) {
    if (round === 1) {
      // Split: ask for the slot that most nodes have open, if a quorum has one.
      if (!granted || kindClashIn(tally!.replies)) break;
      search.preferred = await openOnQuorum(engine, key, limit, value, ttlMs, spot);
      if (search.preferred === undefined) break;
    }
    const preferred = search.preferred ?? (search.attempted ? '*' : '');
    search.attempted = true;
    tally = await vote(engine, key, limit, value, ttlMs, preferred, spot, grants);
    const counts = slotCounts(tally);
    granted ||= tally.replies.some((reply) => typeof reply === 'number');
    slot = mostGranted(counts, engine.quorum);
    split ||= new Set(tally.replies.filter((reply) => typeof reply === 'number')).size > 1;
    search.preferred = mostGranted(counts, 1);
  }
  const last = tally!;
  const expiresAt = validUntil(startedAt, ttlMs, engine.driftFactor);
  if (slot !== undefined && expiresAt > monotonicNow()) {
    // The other slots this value was granted, late replies' too, would stay taken on their
    // nodes for as long as the permit is held (and a newcomer could find no slot free on a
    // quorum): dropped, behind the grants on each connection, without holding the permit up.
    grants.decided(slot);
    return new Lock(engine.owner, [key], value, attempt, expiresAt, undefined, { limit, slot });
  }
  const found = kindClashIn(last.replies);
  // Grants of slots short of a quorum say nothing of when one frees.
  const replies = last.replies.map((reply) =>
    typeof reply === 'number' ? undefined : heldFor(reply),
  );
  const clash = { wanted: `semaphore:${limit}`, found } as const;
  const counted = { ...last, yes: slot === undefined ? 0 : engine.quorum, replies };
  return {
    failure: acquireFailure(engine, [key], ttlMs, counted, attempt, startedAt, clash),
    mayHaveGranted: granted ? Promise.resolve(true) : mayHaveGranted(last, engine.nodeCount),
    backOff: split && slot === undefined,
  };
}

/** One round of the semaphore acquire on every node. */
function vote(
  engine: AttemptContext,
  key: string,
  limit: number,
  value: string,
  ttlMs: number,
  preferred: number | '' | '*',
  spot: QueueSpot,
  grants: GrantWatch,
): Promise<Tally<PermitReply>> {
  let leading: number | undefined;
  return engine.vote<PermitReply>(
    SEMAPHORE_ACQUIRE_SCRIPT,
    queueKeys([key]),
    [value, ttlMs, limit, spot.member, spot.priority ?? '', spot.join ? '1' : '0', preferred],
    (reply, index) => {
      if (typeof reply === 'number') {
        grants.granted(reply);
        leading ??= reply;
        return reply === leading;
      }
      if (!isKindClash(reply)) engine.clocks.readRefusal(reply, index);
      return false;
    },
  );
}

/**
 * The slot that the most nodes have open for `value` (free, only handed out, or its own), if
 * a quorum of them has it open (the lowest on a tie); nothing is taken.
 */
async function openOnQuorum(
  engine: AttemptContext,
  key: string,
  limit: number,
  value: string,
  ttlMs: number,
  spot: QueueSpot,
): Promise<number | undefined> {
  const tally = await engine.vote<readonly (string | number)[]>(
    SEMAPHORE_ACQUIRE_SCRIPT,
    queueKeys([key]),
    [value, ttlMs, limit, spot.member, spot.priority ?? '', '0', '?'],
    () => false,
  );
  const counts = new Map<number, number>();
  for (const [index, reply] of tally.replies.entries()) {
    if (!Array.isArray(reply) || reply[0] !== 'open' || tally.uncounted.includes(index)) continue;
    for (const slot of reply.slice(1) as number[]) counts.set(slot, (counts.get(slot) ?? 0) + 1);
  }
  return mostGranted(counts, engine.quorum);
}

/**
 * Every slot granted to an attempt's value, late replies included: once the permit's slot is
 * decided, a grant of any other (before or after) sets off one trim of the value's other
 * slots, so that none stays taken for as long as the permit is held.
 */
class GrantWatch {
  private readonly slots = new Set<number>();
  private slot: number | undefined;
  private trimmed = false;

  constructor(private readonly trim: () => void) {}

  /** A node granted `slot` (a reply that may come after the decision). */
  granted(slot: number): void {
    this.slots.add(slot);
    if (this.slot !== undefined && slot !== this.slot) this.trimOnce();
  }

  /** The permit's slot is decided. */
  decided(slot: number): void {
    this.slot = slot;
    if (this.slots.size > 1 || !this.slots.has(slot)) this.trimOnce();
  }

  private trimOnce(): void {
    if (this.trimmed) return;
    this.trimmed = true;
    this.trim();
  }
}

/**
 * How many counted replies granted each slot. A grant of another slot than the leading one
 * was a vote against, and so never vetoed: a node whose votes do not count (it restarted) is
 * in `uncounted` all the same, and left out here.
 */
function slotCounts(tally: Tally<PermitReply>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const [index, reply] of tally.replies.entries()) {
    if (typeof reply !== 'number' || tally.uncounted.includes(index)) continue;
    counts.set(reply, (counts.get(reply) ?? 0) + 1);
  }
  return counts;
}

/** The slot granted most often, at least `atLeast` times (the lowest on a tie), if any. */
function mostGranted(counts: ReadonlyMap<number, number>, atLeast: number): number | undefined {
  let best: number | undefined;
  for (const [slot, count] of counts) {
    const bestCount = best === undefined ? 0 : counts.get(best)!;
    if (count >= atLeast && (count > bestCount || (count === bestCount && slot < best!))) {
      best = slot;
    }
  }
  return best;
}
