import type { Grant } from './history.js';

/** What {@link checkPermits} found. */
export interface PermitReport {
  readonly grants: number;
  /** The most permits valid at one moment. */
  readonly mostAtOnce: number;
  /** One line per moment more than `limit` permits were valid at once. */
  readonly violations: readonly string[];
}

/**
 * Checks a semaphore's recorded history: a permit counts from its grant to its release or the
 * end of its validity, whichever is first, and at no moment may more than `limit` count.
 * `releases` maps a permit's value to when its holder gave it up.
 */
export function checkPermits(
  grants: readonly Grant[],
  releases: ReadonlyMap<string, number>,
  limit: number,
): PermitReport {
  // Ends sort before starts at the same instant: a permit handed on at once is not an overlap.
  const edges = grants
    .flatMap((grant) => {
      const to = Math.min(grant.validUntil, releases.get(grant.lock) ?? Infinity);
      return to > grant.at
        ? [
            { at: grant.at, delta: 1, grant },
            { at: to, delta: -1, grant },
          ]
        : [];
    })
    .sort((a, b) => a.at - b.at || a.delta - b.delta);
  const holding = new Set<Grant>();
  const violations: string[] = [];
  let mostAtOnce = 0;
  for (const edge of edges) {
    if (edge.delta < 0) {
      holding.delete(edge.grant);
      continue;
    }
    holding.add(edge.grant);
    mostAtOnce = Math.max(mostAtOnce, holding.size);
    if (holding.size > limit) {
      const workers = [...holding].map((grant) => grant.worker).join(', ');
      violations.push(
        `${holding.size} permits valid at ${edge.at.toFixed(1)} (limit ${limit}): workers ${workers}`,
      );
    }
  }
  return { grants: grants.length, mostAtOnce, violations };
}
