/** Latency samples in milliseconds, summarised. */
export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** p50, p99 and max of `samples` (nearest-rank). */
export function summarise(samples: number[]): Summary {
  if (samples.length === 0) return { count: 0, p50: NaN, p99: NaN, max: NaN };
  const sorted = Float64Array.from(samples).sort();
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { count: sorted.length, p50: rank(50), p99: rank(99), max: sorted[sorted.length - 1] };
}
