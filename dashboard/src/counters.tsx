/// <reference lib="dom" />
/**
 * The totals since start, jobs per second now, and a one-minute sparkline.
 *
 * @module
 */
import type {
  Counters,
  FinalCounts,
  Throughput,
} from "../../src/contract/mod.ts";
import { count } from "./format.ts";

type Card = { label: string; tone: string };

/**
 * A card per final state, keyed by its counter: a record, so a new final
 * state fails type-checking here until it has its card.
 */
const FINAL_CARDS: Record<keyof FinalCounts, Card> = {
  completed: { label: "Completed", tone: "ok" },
  failed: { label: "Failed", tone: "bad" },
  denied: { label: "Denied", tone: "denied" },
  timeout: { label: "Timed out", tone: "warn" },
  cancelled: { label: "Cancelled", tone: "idle" },
};

const CARDS: ({ key: keyof Counters } & Card)[] = [
  { key: "submitted", label: "Submitted", tone: "neutral" },
  ...Object.entries(FINAL_CARDS).map(([key, card]) => ({
    key: key as keyof FinalCounts,
    ...card,
  })),
];

/** A line of the last minute's per-second counts, scaled to its own peak. */
export function Sparkline(
  { series, width = 180, height = 36 }: {
    series: number[];
    width?: number;
    height?: number;
  },
) {
  const peak = Math.max(1, ...series);
  const step = width / Math.max(1, series.length - 1);
  const points = series.map((v, i) =>
    `${(i * step).toFixed(1)},${
      (height - 2 - (v / peak) * (height - 4)).toFixed(1)
    }`
  );
  const line = points.join(" ");
  return (
    <svg
      class="sparkline"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="img"
      aria-label={`jobs per second over the last minute, peak ${peak}`}
    >
      <polygon class="area" points={`0,${height} ${line} ${width},${height}`} />
      <polyline class="line" points={line} />
    </svg>
  );
}

/** The counter cards and the throughput card. */
export function Counters(
  { counters, throughput }: {
    counters?: Counters;
    throughput: Throughput;
  },
) {
  return (
    <section class="counters" aria-label="totals since the scheduler started">
      {CARDS.map(({ key, label, tone }) => (
        <div class={`card tone-${tone}`} key={key} data-counter={key}>
          <span class="card-label">{label}</span>
          <span class="card-value">
            {counters ? count(counters[key]) : "–"}
          </span>
        </div>
      ))}
      <div class="card throughput" data-counter="rate">
        <div>
          <span class="card-label">Jobs / s</span>
          <span class="card-value">
            {throughput.perSecond >= 10
              ? count(Math.round(throughput.perSecond))
              : throughput.perSecond.toFixed(1)}
          </span>
        </div>
        <Sparkline series={throughput.series} />
      </div>
    </section>
  );
}
