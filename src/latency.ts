/**
 * Latency summaries: percentiles of a set of samples.
 *
 * @module
 */

/** Percentiles of a set of samples, in the samples' unit. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * The nearest-rank percentiles of `samples` (sorted in place). All zero when
 * there are no samples.
 *
 * @example
 * ```ts
 * summarize([3, 1, 2]).p50; // 2
 * ```
 */
export function summarize(samples: number[] | Float64Array): LatencySummary {
  const n = samples.length;
  if (n === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = samples instanceof Float64Array
    ? samples.sort()
    : Float64Array.from(samples).sort();
  const rank = (p: number) => sorted[Math.min(n - 1, Math.ceil(p * n) - 1)];
  return {
    count: n,
    p50: rank(0.5),
    p90: rank(0.9),
    p99: rank(0.99),
    max: sorted[n - 1],
  };
}
