/**
 * The table `chain_shapes.ts` prints: each shape's figures over all its
 * rounds, beside the floor's (F) of the same run.
 *
 * @module
 */
import type { Shape } from "./chain_layout.ts";

/** What the rounds of one shape measured, summed. */
export interface Measured {
  /** Jobs asked for with `inflight` outstanding. */
  jobs: number;
  completed: number;
  /** First send to last answer, summed over the rounds. */
  seconds: number;
  /** Round trips with `inflight` outstanding, ms. */
  rtts: number[];
  /** Round trips one at a time, ms. */
  serial: number[];
  /** CPU seconds by process (`client`, `nats-server`, `scheduler`, `worker1`, …). */
  cpu: Record<string, number>;
  /** Messages stored into the shape's streams during the loaded rounds. */
  stored: number;
}

/** Hand-overs from one process to the next on a job's way to its result. */
export const HAND_OVERS: Record<Shape, number> = {
  F: 4,
  S5: 12,
  S4: 12,
  R: 10,
  G: 12,
  W: 8,
  H: 10,
};

/** Nearest-rank percentile `p` (0–1) of `samples`. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

const ms = (n: number) => n.toFixed(n < 10 ? 2 : 1);
const pct = (n: number) => `${Math.round(n * 100)} %`;

/** The markdown table of `shapes`' figures (F first: the ratios' base). */
export function chainTable(
  shapes: Shape[],
  measured: Map<Shape, Measured>,
): string {
  const floor = measured.get("F")!;
  const rate = (m: Measured) => m.seconds > 0 ? m.completed / m.seconds : 0;
  const floorRate = rate(floor);
  const floorSerial = percentile(floor.serial, 0.5);
  const head = [
    "shape",
    "jobs/s",
    "of F",
    "p50 ms",
    "p99 ms",
    "1-at-a-time p50 ms",
    "x F",
    "CPU µs/job: nats-server",
    "scheduler",
    "worker 1 / 2",
    "client",
    "total (no client)",
    "F's CPU/job ÷ this",
    "stored writes/job",
    "hand-overs",
  ];
  const rows = shapes.map((shape) => {
    const m = measured.get(shape)!;
    const us = (name: string) =>
      m.completed > 0 ? Math.round((m.cpu[name] ?? 0) / m.completed * 1e6) : 0;
    const serial = percentile(m.serial, 0.5);
    const system = Object.keys(m.cpu).filter((k) => k !== "client")
      .reduce((sum, k) => sum + us(k), 0);
    // Every process's CPU, the client's too: the share of the floor's
    // jobs/s the shape could reach were both bound by the machine's CPU.
    const all = (x: Measured) =>
      Object.values(x.cpu).reduce((a, b) => a + b, 0) / x.completed;
    return [
      shape +
      (m.completed < m.jobs ? ` (${m.jobs - m.completed} missing)` : ""),
      Math.round(rate(m)).toLocaleString("en-US"),
      pct(rate(m) / floorRate),
      ms(percentile(m.rtts, 0.5)),
      ms(percentile(m.rtts, 0.99)),
      ms(serial),
      `${(serial / floorSerial).toFixed(2)}x`,
      `${us("nats-server")}`,
      shape === "F" ? "–" : `${us("scheduler")}`,
      `${us("worker1")} / ${us("worker2")}`,
      `${us("client")}`,
      `${system}`,
      pct(all(floor) / all(m)),
      (m.stored / m.completed).toFixed(2),
      `${HAND_OVERS[shape]}`,
    ];
  });
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [
    line(head),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...rows.map(line),
  ].join("\n");
}
