import type { Access, Grant, HistoryEvent } from './history.js';

/** The properties the fault suite checks a history against. */
export type ViolationKind =
  /** Two holders' validity windows overlap, one of them exclusive (exclusion broken). */
  | 'overlap'
  /** The fenced storage accepted an access with a token lower than one it had already seen. */
  | 'stale-accepted'
  /** A grant that started after another was returned did not get a larger token. */
  | 'token-order'
  /** The protected counter ended below the number of accepted increments. */
  | 'lost-update';

/** One broken property, with what shows it. */
export interface Violation {
  readonly kind: ViolationKind;
  readonly detail: string;
}

/** What the checker found, and counts that put it in proportion. */
export interface CheckReport {
  readonly grants: number;
  readonly acceptedWrites: number;
  readonly refused: number;
  /** Accepted writes sent after their lock's validity had ended (harmless if fenced). */
  readonly lateWrites: number;
  readonly violations: readonly Violation[];
}

/**
 * Checks a recorded history: (a) validity windows never overlap; (b) the fenced storage never
 * accepts a token lower than one it has already answered; (c) tokens strictly increase in
 * grant order; (d) no increment of the protected counter is lost (`finalValue` is its value at
 * the end). (b) and (c) apply to fenced histories only.
 */
export function checkHistory(events: readonly HistoryEvent[], finalValue: number): CheckReport {
  const grants = events.filter((event): event is Grant => event.type === 'grant');
  const releases = new Map<string, number>();
  for (const event of events) if (event.type === 'release') releases.set(event.lock, event.at);
  const accesses = events.filter(
    (event): event is Access => event.type === 'read' || event.type === 'write',
  );
  const writes = accesses.filter((access) => access.type === 'write');
  const validUntil = new Map(grants.map((grant) => [grant.lock, grant.validUntil]));

  const violations = [
    ...overlaps(grants, releases),
    ...staleAccepted(accesses),
    ...tokenOrder(grants),
  ];
  if (finalValue !== writes.length) {
    violations.push({
      kind: 'lost-update',
      detail: `${writes.length} increments were accepted, but the counter ends at ${finalValue}`,
    });
  }
  return {
    grants: grants.length,
    acceptedWrites: writes.length,
    refused: events.filter((event) => event.type === 'refused').length,
    lateWrites: writes.filter((write) => write.sentAt > (validUntil.get(write.lock) ?? Infinity))
      .length,
    violations,
  };
}

/**
 * (a) A window runs from the grant to the release or the end of validity, whichever is first.
 * An exclusive window overlaps no other; read windows may overlap each other.
 */
function overlaps(grants: readonly Grant[], releases: Map<string, number>): Violation[] {
  const windows = grants
    .map((grant) => ({
      grant,
      from: grant.at,
      to: Math.min(grant.validUntil, releases.get(grant.lock) ?? Infinity),
    }))
    .sort((a, b) => a.from - b.from);
  const found: Violation[] = [];
  type Window = (typeof windows)[number];
  // Of the windows started so far, the one that ends last, and the exclusive one that does.
  let latest: Window | undefined;
  let latestExclusive: Window | undefined;
  for (const window of windows) {
    const reads = window.grant.mode === 'read';
    const other = reads ? latestExclusive : latest;
    if (other && window.from < other.to) {
      found.push({
        kind: 'overlap',
        detail:
          `worker ${window.grant.worker}'s ${reads ? 'read ' : ''}lock from ` +
          `${window.from.toFixed(1)} overlaps worker ${other.grant.worker}'s ` +
          `${other.grant.mode === 'read' ? 'read ' : ''}lock until ${other.to.toFixed(1)}`,
      });
    }
    if (!latest || window.to > latest.to) latest = window;
    if (!reads && (!latestExclusive || window.to > latestExclusive.to)) latestExclusive = window;
  }
  return found;
}

/**
 * (b) An access answered (accepted) before another access was sent shows the storage had seen
 * its token by then; if the later access carries a lower token and was accepted, the storage
 * let a stale holder in.
 */
function staleAccepted(accesses: readonly Access[]): Violation[] {
  const fenced = accesses.filter((access) => access.token !== undefined);
  const byAnswer = [...fenced].sort((a, b) => a.at - b.at);
  const bySend = [...fenced].sort((a, b) => a.sentAt - b.sentAt);
  const found: Violation[] = [];
  let highest = -1n;
  let next = 0;
  for (const access of bySend) {
    while (next < byAnswer.length && byAnswer[next].at < access.sentAt) {
      const seen = BigInt(byAnswer[next++].token!);
      if (seen > highest) highest = seen;
    }
    if (BigInt(access.token!) < highest) {
      found.push({
        kind: 'stale-accepted',
        detail: `worker ${access.worker}'s ${access.type} with token ${access.token} was accepted after token ${highest}`,
      });
    }
  }
  return found;
}

/** (c) For grants A and B with A returned before B started: A's token < B's token. */
function tokenOrder(grants: readonly Grant[]): Violation[] {
  const fenced = grants.filter((grant) => grant.token !== undefined);
  const byReturn = [...fenced].sort((a, b) => a.at - b.at);
  const byStart = [...fenced].sort((a, b) => a.startedAt - b.startedAt);
  const found: Violation[] = [];
  let highest: Grant | undefined;
  let next = 0;
  for (const grant of byStart) {
    while (next < byReturn.length && byReturn[next].at < grant.startedAt) {
      const returned = byReturn[next++];
      if (!highest || BigInt(returned.token!) > BigInt(highest.token!)) highest = returned;
    }
    if (highest && BigInt(grant.token!) <= BigInt(highest.token!)) {
      found.push({
        kind: 'token-order',
        detail: `worker ${grant.worker} got token ${grant.token} after token ${highest.token} had been returned`,
      });
    }
  }
  return found;
}
