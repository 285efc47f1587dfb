/**
 * The ledger as a replica sees it: every entry the bucket's watch delivers
 * is applied to the replica's {@linkcode JobTable} (the dashboard's view,
 * still bounded by its capacity) and to its counters, and observers are
 * told. Every replica applies the same entries, so they agree.
 *
 * Counters in durable mode are the ledger's, over its retained history
 * (`CORTEX_HISTORY_MS`), not this replica's since it started: at start the
 * entries held are counted whole, then each update by what it changed
 * (whole, for a job never counted here whose earlier writes the watch
 * skipped).
 * `lateResults` and `badHeartbeats` stay per replica (they are about what
 * reached it, not about jobs).
 *
 * @module
 */
import { finalCountKey, isFinal } from "../contract/mod.ts";
import type { JobRecord, JobTable } from "./job_table.ts";
import { type LedgerEntry, recordOf } from "./ledger.ts";
import type { SchedulerCounters, SchedulerObserver } from "./service.ts";

/** Durable mode's counters beyond {@linkcode SchedulerCounters}. */
export interface DurableCounters {
  /** Attempts recorded after a job's first (retries), over the ledger's history. */
  retries: number;
  /** Jobs that failed every attempt, over the ledger's history. */
  deadLettered: number;
  /** Attempt reports fenced (job final, or attempt recorded already), on this replica. */
  duplicateDeliveries: number;
}

/** The counters a ledger entry adds to: what {@linkcode contribution} returns. */
export type Counted =
  & Pick<
    SchedulerCounters,
    | "submitted"
    | "dispatched"
    | "completed"
    | "failed"
    | "denied"
    | "timeout"
    | "cancelled"
    | "duplicates"
  >
  & Pick<DurableCounters, "retries" | "deadLettered">;

const ZERO: Counted = {
  submitted: 0,
  dispatched: 0,
  completed: 0,
  failed: 0,
  denied: 0,
  timeout: 0,
  cancelled: 0,
  duplicates: 0,
  retries: 0,
  deadLettered: 0,
};

/**
 * What an entry, as it is, adds to the counters. A job retried by hand
 * counts each of its outcomes (the ones before each retry, kept in
 * `retriedByHand`, and the latest) and each dispatch, so a retry never
 * makes a counter go down.
 */
export function contribution(entry: LedgerEntry): Counted {
  const counted = { ...ZERO };
  counted.submitted = 1;
  const earlier = entry.retriedByHand ?? [];
  if (entry.dispatchedAt !== undefined) counted.dispatched = 1 + earlier.length;
  if (isFinal(entry.state)) counted[finalCountKey(entry.state)] = 1;
  for (const before of earlier) counted[finalCountKey(before.state)]++;
  counted.duplicates = entry.duplicates;
  counted.retries = Math.max(0, entry.attempts.length - 1);
  counted.deadLettered = (entry.deadLettered ? 1 : 0) +
    earlier.filter((before) => before.deadLettered).length;
  return counted;
}

/**
 * What an update adds when the entry before it is not known here (this
 * replica's table did not hold it): the change the entry says it made.
 */
function changeOnly(entry: LedgerEntry): Counted {
  const whole = contribution(entry);
  switch (entry.change) {
    case "created":
      return whole;
    case "duplicate":
      return { ...ZERO, duplicates: 1 };
    case "attempt":
      return { ...ZERO, retries: 1 };
    case "retried":
      // The dispatch is new; the outcome before it was counted when it
      // was written. Its first new attempt is a retry too when it comes.
      return { ...ZERO, dispatched: 1 };
    case "discarded":
      // Taken off the dead-letter list: nothing new to count.
      return { ...ZERO };
    case "final": {
      // Only the outcome this write made; earlier ones (before a retry by
      // hand) were counted when they were written.
      const final = { ...ZERO };
      if (isFinal(entry.state)) final[finalCountKey(entry.state)] = 1;
      final.deadLettered = entry.deadLettered ? 1 : 0;
      return final;
    }
  }
}

/**
 * Applies ledger entries to a job table and counters.
 *
 * @example
 * ```ts
 * const view = new LedgerView(jobs, counters, durable, observers);
 * view.apply(entry, { initial: true });
 * ```
 */
export class LedgerView {
  readonly #jobs: JobTable;
  readonly #counters: SchedulerCounters;
  readonly #durable: DurableCounters;
  readonly #observers: ReadonlySet<SchedulerObserver>;
  /** What each record held was counted as, so an update counts only its difference. */
  readonly #counted = new WeakMap<JobRecord, Counted>();
  /** The submission sequence that admitted each record held. */
  readonly #admittedBy = new WeakMap<JobRecord, number>();
  /**
   * The latest submission sequence among the jobs counted here and not
   * held (evicted, or not taken in while the table was full of jobs in
   * flight). A job not held that was admitted after it was never counted
   * here, so its entry counts whole even when it is not its creation: the
   * bucket keeps one revision a key, and the watch skips a write replaced
   * before it reached it (a busy replica's creations, under load).
   */
  #countedThrough = 0;
  readonly #evicted = (record: JobRecord): void => {
    this.#past(this.#admittedBy.get(record) ?? Number.MAX_SAFE_INTEGER);
  };

  /**
   * A view filling `jobs`, counting into `counters` and `durable`, telling
   * `observers`.
   */
  constructor(
    jobs: JobTable,
    counters: SchedulerCounters,
    durable: DurableCounters,
    observers: ReadonlySet<SchedulerObserver>,
  ) {
    this.#jobs = jobs;
    this.#counters = counters;
    this.#durable = durable;
    this.#observers = observers;
  }

  /**
   * Applies one entry as the watch delivered it. `initial`: it was in the
   * bucket when the watch started (counted whole).
   */
  apply(entry: LedgerEntry, { initial }: { initial: boolean }): void {
    const held = this.#jobs.get(entry.jobId);
    const before = held && this.#counted.get(held);
    const now = contribution(entry);
    const delta = before
      ? subtract(now, before)
      : initial || entry.submitSeq > this.#countedThrough
      ? now
      : changeOnly(entry);
    this.#add(delta);
    const fresh = recordOf(entry);
    const record = this.#jobs.upsert(fresh, this.#evicted);
    if (!record) {
      // Not held (the table is full of jobs in flight): observers that
      // keep more than the table (search through history) still hear of it.
      this.#past(entry.submitSeq);
      for (const o of this.#observers) o.jobChanged?.(fresh);
      return;
    }
    this.#counted.set(record, now);
    this.#admittedBy.set(record, entry.submitSeq);
    for (const o of this.#observers) o.jobChanged?.(record);
  }

  /** Notes a job counted here that is no longer held. */
  #past(submitSeq: number): void {
    if (submitSeq > this.#countedThrough) this.#countedThrough = submitSeq;
  }

  #add(delta: Counted): void {
    const c = this.#counters;
    c.submitted += delta.submitted;
    c.dispatched += delta.dispatched;
    c.completed += delta.completed;
    c.failed += delta.failed;
    c.denied += delta.denied;
    c.timeout += delta.timeout;
    c.cancelled += delta.cancelled;
    c.duplicates += delta.duplicates;
    this.#durable.retries += delta.retries;
    this.#durable.deadLettered += delta.deadLettered;
  }
}

function subtract(a: Counted, b: Counted): Counted {
  const out = { ...ZERO };
  for (const key of Object.keys(out) as (keyof Counted)[]) {
    out[key] = a[key] - b[key];
  }
  return out;
}
