/**
 * The fleet's log lines (a worker joined, came back, left, went stale or
 * offline), at a bounded rate: anyone on the bus can invent worker ids, and
 * a flood of them filling the registry once wrote a line per id (10,000
 * joins, then 10,000 stale and 10,000 offline lines: most of the
 * scheduler's time in that flood, and more when whoever reads its standard
 * error is slow, since each line is a synchronous write).
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { WorkerState } from "../contract/mod.ts";

/** What happened to a worker, as the log says it. */
export type WorkerChange = "joined" | "back" | "left" | WorkerState;

/** Options of {@linkcode FleetLog}. */
export interface FleetLogOptions {
  /**
   * Lines per window; the changes past them are counted and summed up in
   * one line. Default 50: a fleet of 50 workers starting together is logged
   * one by one.
   */
  perWindow?: number;
  /** The window, in ms. Default 10,000. */
  windowMs?: number;
  /** The clock. Default `Date.now`. */
  clock?: () => number;
}

const PHRASE: Record<WorkerChange, string> = {
  joined: "joined",
  back: "came back online",
  left: "left",
  online: "went online",
  draining: "are draining",
  stale: "went stale",
  offline: "went offline",
};

/**
 * Says each worker change, at most `perWindow` lines per window, then
 * counts them by kind and sums them up once the window has passed (at the
 * next change or {@linkcode FleetLog.tick}).
 *
 * @example
 * ```ts
 * const lines = new FleetLog(log);
 * lines.change("joined", "echo-1", "echo");
 * lines.tick(); // once a second: the summary, when a window has passed
 * ```
 */
export class FleetLog {
  readonly #log: Logger;
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #clock: () => number;
  #windowStart = -Infinity;
  #logged = 0;
  /** Changes not logged this window, by kind; empty when there are none. */
  #unlogged = new Map<WorkerChange, number>();

  /** Lines about workers, written to `log`. */
  constructor(log: Logger, options: FleetLogOptions = {}) {
    this.#log = log;
    this.#perWindow = options.perWindow ?? 50;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * Says that worker `workerId` of `pool` `change`d (joins and returns at
   * info level, the rest as warnings), or counts it if this window's lines
   * are used up. Returns whether the line was written.
   */
  change(change: WorkerChange, workerId: string, pool: string): boolean {
    this.#turn(this.#clock());
    if (this.#logged >= this.#perWindow) {
      this.#unlogged.set(change, (this.#unlogged.get(change) ?? 0) + 1);
      return false;
    }
    this.#logged++;
    const properties = { worker_id: workerId, pool };
    if (change === "joined") {
      this.#log.info("worker {worker_id} ({pool}) joined", properties);
    } else if (change === "back") {
      this.#log.info("worker {worker_id} ({pool}) is back online", properties);
    } else if (change === "left") {
      this.#log.info("worker {worker_id} ({pool}) left", properties);
    } else {
      this.#log.warn("worker {worker_id} ({pool}) is {state}", {
        ...properties,
        state: change,
      });
    }
    return true;
  }

  /** Sums up the window just passed, if it had changes left unsaid. */
  tick(): void {
    this.#turn(this.#clock());
  }

  #turn(now: number): void {
    if (now - this.#windowStart < this.#windowMs) return;
    if (this.#unlogged.size > 0) {
      const counts = [...this.#unlogged]
        .map(([change, n]) => `${n} ${PHRASE[change]}`)
        .join(", ");
      this.#log.warn(
        "more worker changes than the log says one by one (at most {lines} lines per {seconds} s; GET /api/workers lists every worker) in the last {seconds} s: {counts}",
        { lines: this.#perWindow, seconds: this.#windowMs / 1000, counts },
      );
      this.#unlogged = new Map();
    }
    this.#windowStart = now;
    this.#logged = 0;
  }
}
