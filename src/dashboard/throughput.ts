/**
 * Jobs per second over the last minute, from a running total sampled now and
 * then: no timestamp per job, so it costs nothing in the scheduler's hot path.
 *
 * @module
 */
import type { Throughput } from "../contract/mod.ts";

/** Seconds of history kept: the sparkline's width. */
export const THROUGHPUT_SECONDS = 60;

/** Seconds averaged for "jobs per second now": one second alone flickers. */
export const RATE_SECONDS = 5;

/**
 * Turns samples of a monotonic total into per-second counts.
 *
 * A second's count is the growth of the total between the first samples of
 * that second and the next, so sampling a few times a second is enough.
 *
 * @example
 * ```ts
 * const meter = new ThroughputMeter();
 * meter.sample(0, 0);
 * meter.sample(40, 1_000);
 * meter.value().perSecond; // 40
 * ```
 */
export class ThroughputMeter {
  readonly #series: number[] = new Array(THROUGHPUT_SECONDS).fill(0);
  #second = -1;
  #totalAtSecond = 0;

  /**
   * Records that the total was `total` at epoch ms `now`; returns whether
   * the series changed (an idle minute of zeros does not).
   */
  sample(total: number, now: number): boolean {
    const second = Math.floor(now / 1000);
    if (this.#second < 0) {
      this.#second = second;
      this.#totalAtSecond = total;
      return false;
    }
    if (second <= this.#second) return false;
    // Seconds with no sample (a stalled loop) count as zero; the growth
    // goes to the last closed second rather than being lost.
    const gap = Math.min(second - this.#second, THROUGHPUT_SECONDS);
    let changed = false;
    for (let i = 1; i < gap; i++) changed = this.#push(0) || changed;
    changed = this.#push(Math.max(0, total - this.#totalAtSecond)) || changed;
    this.#second = second;
    this.#totalAtSecond = total;
    return changed;
  }

  /** The rate now (mean of the last {@linkcode RATE_SECONDS} closed seconds) and the series, oldest first. */
  value(): Throughput {
    let sum = 0;
    for (let i = 1; i <= RATE_SECONDS; i++) {
      sum += this.#series[this.#series.length - i];
    }
    return {
      perSecond: Math.round((sum / RATE_SECONDS) * 10) / 10,
      series: [...this.#series],
    };
  }

  /** Appends a second; returns whether that changed the series. */
  #push(count: number): boolean {
    // Shifting changes nothing only when every bucket is zero.
    const changed = count !== 0 || this.#series.some((n) => n !== 0);
    this.#series.shift();
    this.#series.push(count);
    return changed;
  }
}
