/**
 * Strict option bags: a key the entry point does not know is a `TypeError` that names it and
 * the valid key closest to it, so that a typo never silently leaves a default in place.
 */

/**
 * node-redlock's option names, and what each is called here (the first one the entry point
 * knows is suggested).
 */
const RENAMED_OPTIONS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  retryDelay: ['retryDelayMs'],
  retryJitter: ['retryJitterMs'],
  automaticExtensionThreshold: ['autoExtendThresholdMs'],
  ttl: ['ttlMs', 'defaultTtlMs'],
  duration: ['ttlMs', 'defaultTtlMs'],
  drift: ['driftFactor'],
});

/**
 * Throws a `TypeError` if `options` has an own key not in `known`, naming the key, the known
 * key closest to it (node-redlock's names map to ours), and `name` (e.g. `options`).
 */
export function assertKnownOptions(name: string, options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null) return;
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const renamed = RENAMED_OPTIONS[key]?.find((candidate) => known.includes(candidate));
    const hint = renamed
      ? `node-redlock's \`${key}\` is \`${renamed}\` here`
      : `did you mean \`${nearest(key, known)}\`?`;
    throw new TypeError(
      `Unknown option \`${key}\` in \`${name}\`: ${hint} (valid: ${known.join(', ')})`,
    );
  }
}

/**
 * Lists the keys of the options type `T`: `optionKeys<T>()([...])` fails to compile when the
 * list misses a key of `T` or names one `T` lacks, so the list cannot drift from the type.
 */
export function optionKeys<T>() {
  return <const Keys extends readonly (keyof T & string)[]>(
    keys: Keys &
      ([Exclude<keyof T, Keys[number]>] extends [never]
        ? unknown
        : { missingKeys: Exclude<keyof T, Keys[number]> }),
  ): Keys => Object.freeze([...keys]) as unknown as Keys;
}

/** The key of `known` at the smallest edit distance from `key`, ignoring case. */
function nearest(key: string, known: readonly string[]): string {
  let best = known[0];
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance: the fewest insertions, deletions and substitutions from `a` to `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}
