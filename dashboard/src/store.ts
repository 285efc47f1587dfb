/// <reference lib="dom" />
/**
 * The browser's copy of the scheduler's state, kept current by the event
 * stream: workers by id, a bounded window of the most recent jobs, counters,
 * throughput, the queues and the progress of bulk actions.
 *
 * @module
 */
import type {
  BulkProgress,
  Counters,
  DashboardEvent,
  JobSummary,
  QueuesView,
  Throughput,
  WorkerSummary,
} from "../../src/contract/mod.ts";

/** Jobs kept in memory; the feed renders fewer. Bounded so a flood cannot grow the tab. */
export const KEEP_JOBS = 1000;
/** Bulk actions kept, as many as the server keeps (`BULK_KEPT`). */
const KEEP_BULK = 50;

/** Orders ids within one millisecond: "job-10" after "job-9". */
const byId = new Intl.Collator("en", { numeric: true });

const ZERO_THROUGHPUT: Throughput = {
  perSecond: 0,
  series: new Array(60).fill(0),
};

/**
 * Applies snapshots and deltas; notifies listeners after each change.
 *
 * @example
 * ```ts
 * const store = new DashboardStore();
 * store.subscribe(() => render());
 * store.apply(event);
 * ```
 */
export class DashboardStore {
  /** Workers, in the server's order (pool, then id). */
  workers: WorkerSummary[] = [];
  /** Jobs newest first, at most {@linkcode KEEP_JOBS}. */
  jobs: JobSummary[] = [];
  counters?: Counters;
  throughput: Throughput = ZERO_THROUGHPUT;
  /** The queues at a glance, with each topic's series. */
  queues?: QueuesView;
  /** Server clock minus ours, so "3 s ago" is right on a skewed client. */
  clockOffset = 0;
  /** Epoch ms of the last delta that left changed jobs out (a flood), or 0. */
  sampledAt = 0;
  /**
   * Bulk actions' progress from the stream, by id: a new map at each
   * change, so a view that reads it sees the change.
   */
  bulk: ReadonlyMap<string, BulkProgress> = new Map();
  /** Every topic seen, for the topic filter. */
  readonly topics = new Set<string>();
  readonly #jobs = new Map<string, JobSummary>();
  readonly #workers = new Map<string, WorkerSummary>();
  readonly #listeners = new Set<() => void>();

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The server's clock now, as best we know it. */
  serverNow(): number {
    return Date.now() + this.clockOffset;
  }

  /** Applies one event from `/api/events`. */
  apply(event: DashboardEvent): void {
    this.clockOffset = event.serverTime - Date.now();
    if (event.type === "bulk") {
      this.#mergeBulk(event.actions);
      this.#notify();
      return;
    }
    if (event.type === "snapshot") {
      this.#jobs.clear();
      this.#workers.clear();
      // One that ran and is not running now ended while we were away: it is
      // dropped, and whoever follows it reads its end (GET /api/bulk/:id).
      const bulk = new Map(this.bulk);
      for (const [id, p] of bulk) if (p.state === "running") bulk.delete(id);
      this.bulk = bulk;
      this.#mergeBulk(event.bulk);
    } else {
      for (const id of event.forgotten) this.#workers.delete(id);
      if (event.jobsOmitted > 0) this.sampledAt = Date.now();
    }
    for (const worker of event.workers) {
      this.#workers.set(worker.workerId, worker);
    }
    this.workers = [...this.#workers.values()].sort((a, b) =>
      a.pool.localeCompare(b.pool) || a.workerId.localeCompare(b.workerId)
    );
    this.counters = event.counters;
    this.throughput = event.throughput;
    if (event.queues) this.queues = event.queues;
    this.mergeJobs(event.jobs, false);
    this.#notify();
  }

  /** Adds or updates jobs (from the stream or a filtered `/api/jobs` fetch). */
  mergeJobs(jobs: JobSummary[], notify = true): void {
    for (const job of jobs) {
      this.#jobs.set(job.jobId, job);
      if (job.topic) this.topics.add(job.topic);
    }
    const all = [...this.#jobs.values()].sort((a, b) =>
      b.submittedAt - a.submittedAt || byId.compare(b.jobId, a.jobId)
    );
    for (const dropped of all.splice(KEEP_JOBS)) {
      this.#jobs.delete(dropped.jobId);
    }
    this.jobs = all;
    if (notify) this.#notify();
  }

  #mergeBulk(actions: BulkProgress[]): void {
    if (actions.length === 0) return;
    const bulk = new Map(this.bulk);
    for (const progress of actions) {
      bulk.delete(progress.id); // re-added last: the newest change last
      bulk.set(progress.id, progress);
    }
    for (const id of bulk.keys()) {
      if (bulk.size <= KEEP_BULK) break;
      bulk.delete(id);
    }
    this.bulk = bulk;
  }

  /** One job's latest summary, if it is in the window. */
  job(jobId: string): JobSummary | undefined {
    return this.#jobs.get(jobId);
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
