/**
 * Bulk actions in the background: one step (retry, cancel, discard) per
 * job of a list fixed when the action starts, a few at a time, yielding to
 * the event loop between batches so the scheduler's own work (pulling
 * submissions, recording results, dispatching) is never queued behind
 * thousands of steps. Each action can be followed and stopped; the most
 * recent are kept for their progress.
 *
 * @module
 */
import type { BulkProgress } from "../contract/mod.ts";

/** What one step did to one job. */
export type StepOutcome = { ok: true } | { ok: false; error: string };

/** One step of a bulk action: never rejects (a failure is an outcome). */
export type BulkStep = (jobId: string) => Promise<StepOutcome>;

/** How a bulk action is paced. */
export interface BulkPacing {
  /**
   * Steps at once. Default 4: each retry is a ledger read, a
   * compare-and-set and a stored publish, and then a job the workers run;
   * at 8 at once, with a yield every 64 and no pause, other jobs kept 79
   * and 54 % of their throughput in two runs of scripts/bench/bulk.ts; at 4
   * with the pause below, 81 and 79 % (docs/performance.md).
   */
  concurrency?: number;
  /** Steps between two yields to the event loop. Default 32. */
  batch?: number;
  /**
   * Pause at each yield, in ms. Default 5: timers and I/O run first, and a
   * bulk retry leaves room for the jobs submitted meanwhile.
   */
  pauseMs?: number;
}

/** Bulk actions kept for their progress after they end. */
export const BULK_KEPT = 50;
/** Failures listed in a progress. */
const ERRORS_KEPT = 20;

/**
 * What the dashboard's event stream reads of bulk actions: their progress,
 * and a call when one changes.
 */
export interface BulkFeed {
  /** The progress of action `id` now, or `undefined` when not kept. */
  get(id: string): BulkProgress | undefined;
  /** Every kept action, newest first. */
  list(): BulkProgress[];
  /**
   * Calls `changed` with an action's id when it starts, after each step and
   * when it ends; returns the call that stops it. `changed` runs in the
   * action's loop: it should note the id and return.
   */
  observe(changed: (id: string) => void): () => void;
}

interface Running {
  progress: BulkProgress;
  stop: AbortController;
  done: Promise<void>;
}

/**
 * The bulk actions of one dashboard.
 *
 * @example
 * ```ts
 * const bulk = new BulkActions();
 * const started = bulk.start("retry", { status: ["FAILED"] }, ids, step);
 * bulk.stop(started.id);
 * ```
 */
export class BulkActions implements BulkFeed {
  readonly #runs = new Map<string, Running>();
  readonly #observers = new Set<(id: string) => void>();
  readonly #pacing: Required<BulkPacing>;
  readonly #clock: () => number;
  #next = 1;

  /** No actions yet; `pacing` as documented, `clock` for the times. */
  constructor(pacing: BulkPacing = {}, clock: () => number = Date.now) {
    this.#pacing = {
      concurrency: Math.max(1, pacing.concurrency ?? 4),
      batch: Math.max(1, pacing.batch ?? 32),
      pauseMs: Math.max(0, pacing.pauseMs ?? 5),
    };
    this.#clock = clock;
  }

  /**
   * Starts `step` on each of `jobIds` in the background; `onEnd` is called
   * once with the final progress (finished or stopped).
   */
  start(
    action: string,
    filter: Record<string, unknown>,
    jobIds: readonly string[],
    step: BulkStep,
    onEnd?: (progress: BulkProgress) => void,
  ): BulkProgress {
    const id = `b${this.#clock().toString(36)}-${this.#next++}`;
    const progress: BulkProgress = {
      id,
      action,
      filter,
      matched: jobIds.length,
      done: 0,
      succeeded: 0,
      failed: 0,
      state: "running",
      startedAt: this.#clock(),
      finishedAt: null,
      errors: [],
    };
    const stop = new AbortController();
    const run: Running = { progress, stop, done: Promise.resolve() };
    run.done = this.#run(run, jobIds, step).then(() => {
      progress.state = stop.signal.aborted && progress.done < progress.matched
        ? "stopped"
        : "finished";
      progress.finishedAt = this.#clock();
      this.#changed(id);
      onEnd?.({ ...progress });
    });
    this.#runs.set(id, run);
    this.#forgetOld();
    this.#changed(id);
    return { ...progress };
  }

  /** See {@linkcode BulkFeed.observe}. */
  observe(changed: (id: string) => void): () => void {
    this.#observers.add(changed);
    return () => this.#observers.delete(changed);
  }

  #changed(id: string): void {
    for (const changed of this.#observers) changed(id);
  }

  /** The progress of action `id` now, or `undefined` when not kept. */
  get(id: string): BulkProgress | undefined {
    const run = this.#runs.get(id);
    return run && { ...run.progress, errors: [...run.progress.errors] };
  }

  /** Every kept action, newest first. */
  list(): BulkProgress[] {
    return [...this.#runs.keys()].reverse().map((id) => this.get(id)!);
  }

  /**
   * Stops action `id`: no step starts after this; the ones under way end.
   * Resolves with its progress once they have, or `undefined` when not kept.
   */
  async stop(id: string): Promise<BulkProgress | undefined> {
    const run = this.#runs.get(id);
    if (!run) return undefined;
    run.stop.abort();
    await run.done;
    return this.get(id);
  }

  /** Stops every action and waits for them (at shutdown). */
  async close(): Promise<void> {
    for (const run of this.#runs.values()) run.stop.abort();
    await Promise.all([...this.#runs.values()].map((run) => run.done));
  }

  async #run(
    run: Running,
    jobIds: readonly string[],
    step: BulkStep,
  ): Promise<void> {
    const { concurrency, batch, pauseMs } = this.#pacing;
    const { progress, stop } = run;
    let next = 0;
    let sinceYield = 0;
    const lane = async () => {
      while (next < jobIds.length && !stop.signal.aborted) {
        const jobId = jobIds[next++];
        let outcome: StepOutcome;
        try {
          outcome = await step(jobId);
        } catch (error) {
          outcome = {
            ok: false,
            error: error instanceof Error ? error.message : String(error),
          };
        }
        progress.done++;
        if (outcome.ok) {
          progress.succeeded++;
        } else {
          progress.failed++;
          if (progress.errors.length < ERRORS_KEPT) {
            progress.errors.push({ jobId, error: outcome.error });
          }
        }
        this.#changed(progress.id);
        if (++sinceYield >= batch) {
          sinceYield = 0;
          // A timer, not a microtask: lets the pulls, results and HTTP
          // requests waiting on I/O run before the next batch.
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(concurrency, jobIds.length) }, lane),
    );
  }

  #forgetOld(): void {
    for (const [id, run] of this.#runs) {
      if (this.#runs.size <= BULK_KEPT) return;
      if (run.progress.state !== "running") this.#runs.delete(id);
    }
  }
}
