/**
 * A fixed-size histogram of durations with log-scale bins: bounded memory
 * whatever the job rate, quantiles right to within a quarter of their value (a factor of √1.5).
 *
 * @module
 */

/** Each bin's upper bound is this factor times the previous one. */
const GROWTH = 1.5;
/**
 * Bins: [0, 1 ms], then up to 1.5^44 ms (about 16 hours), and one for
 * anything longer; a job's wait or run time fits with room to spare.
 */
export const HISTOGRAM_BINS = 46;

/** Upper bound (ms) of each bin but the last, which is open. */
const UPPER: readonly number[] = Array.from(
  { length: HISTOGRAM_BINS - 1 },
  (_, i) => Math.round(GROWTH ** i),
);

/** The bin of a duration in ms, computed. */
function binByLog(ms: number): number {
  if (!(ms > 1)) return 0;
  const i = Math.ceil(Math.log(ms) / Math.log(GROWTH));
  return Math.min(i, HISTOGRAM_BINS - 1);
}

/**
 * The bins of whole durations under 4,096 ms, looked up: most waits and
 * run times, and a lookup costs less than two logarithms per job.
 */
const SMALL_BINS: Uint8Array = Uint8Array.from(
  { length: 4096 },
  (_, ms) => binByLog(ms),
);

/** The bin of a duration in ms. */
export function binOf(ms: number): number {
  const whole = ms >>> 0;
  return whole === ms && whole < SMALL_BINS.length
    ? SMALL_BINS[whole]
    : binByLog(ms);
}

/**
 * The value reported for a bin: the geometric middle of its bounds, so
 * within a quarter (a factor of √1.5) of any value in it; the last, open
 * bin reports its lower bound.
 */
function valueOf(bin: number): number {
  if (bin === 0) return 1;
  if (bin >= UPPER.length) return UPPER[UPPER.length - 1];
  return Math.round(GROWTH ** bin / Math.sqrt(GROWTH));
}

/**
 * Adds `ms` to `counts` (a histogram of {@linkcode HISTOGRAM_BINS} bins).
 *
 * @example
 * ```ts
 * const counts = new Uint32Array(HISTOGRAM_BINS);
 * addDuration(counts, 120);
 * ```
 */
export function addDuration(counts: Uint32Array, ms: number): void {
  counts[binOf(ms)]++;
}

/**
 * The `q` quantile (0 < q ≤ 1) of the histograms `parts` added together,
 * in ms; `null` when they hold no sample.
 *
 * @example
 * ```ts
 * quantile([counts], 0.95); // e.g. 129
 * ```
 */
export function quantile(
  parts: readonly Uint32Array[],
  q: number,
): number | null {
  let total = 0;
  for (const part of parts) for (const n of part) total += n;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let bin = 0; bin < HISTOGRAM_BINS; bin++) {
    for (const part of parts) seen += part[bin];
    if (seen >= rank) return valueOf(bin);
  }
  return valueOf(HISTOGRAM_BINS - 1);
}
