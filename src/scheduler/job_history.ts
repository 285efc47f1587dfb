/**
 * Search through history: a copy of every job the scheduler has heard of
 * since it started (in durable mode, every entry of the ledger, which a
 * starting scheduler reads whole, so history survives a restart), far
 * beyond the job table's most recent few thousand, searchable by id
 * prefix, topic, state, worker, time and text, and paged newest first with
 * a cursor.
 *
 * Off the heap: the jobs live in a {@linkcode HistoryStore} (SQLite, in a
 * file for the scheduler), so the scheduler's memory does not grow with
 * them. Cheap in the scheduler's hot path: a change only marks the job's
 * record (a Set insert); the marked records are written, in one
 * transaction, before every search, or once {@linkcode HISTORY_MARKED} are
 * marked (then those in flight wait for their end, unless they are half the
 * batch: one write a job, not two): what waits in memory is at most that
 * many records the job table mostly holds anyway. No timer. Bounded: at
 * most `capacity` jobs (the earliest submitted are dropped first), and of
 * each only {@linkcode HISTORY_TEXT_CHARS} characters of payload, output
 * and error are searched.
 *
 * @module
 */
import { isFinal, JobState, type JobSummary } from "../contract/mod.ts";
import type { JobRecord } from "./job_table.ts";
import {
  type HistoryError,
  HistoryStore,
  type HistoryText,
} from "./history_store.ts";
import {
  HISTORY_TEXT_CHARS,
  type HistoryQuery,
  type Position,
} from "./history_query.ts";

export type { HistoryError, HistoryQuery, Position };
export { HISTORY_TEXT_CHARS };

/** Jobs kept by default: 100,000 with room (on file, see docs/performance.md). */
export const HISTORY_CAPACITY = 250_000;
/**
 * Marked changes written at once, at the latest: bounds what waits in
 * memory, and the pause of one write (see docs/performance.md for what
 * scripts/bench/history_cost.ts measures a job).
 */
export const HISTORY_MARKED = 1024;
/** Failed attempts of one job remembered for its workers' error lists. */
const MAX_ERRORS_PER_JOB = 5;

/** The first HISTORY_TEXT_CHARS characters (the string itself when shorter). */
function cut(text: string): string {
  return text.length > HISTORY_TEXT_CHARS
    ? text.slice(0, HISTORY_TEXT_CHARS)
    : text;
}

/** A page of a search. */
export interface HistoryPage {
  /** Newest first. */
  jobs: JobSummary[];
  /** Pass as `cursor` for the next page; `null` on the last. */
  nextCursor: string | null;
  /** Jobs the index holds now. */
  held: number;
}

/** Encodes where a page ended: opaque to clients. */
export function encodeCursor(at: Position): string {
  return btoa(JSON.stringify(at)).replaceAll("=", "");
}

/** The position of a cursor, or `undefined` when it is not one of ours. */
export function decodeCursor(cursor: string): Position | undefined {
  try {
    const v = JSON.parse(atob(cursor));
    if (
      Array.isArray(v) && v.length === 2 && Number.isFinite(v[0]) &&
      typeof v[1] === "string"
    ) {
      return [v[0], v[1]];
    }
  } catch {
    // not base64 or not JSON: not ours
  }
  return undefined;
}

/** What the store keeps of a job besides its row: its text, its workers and failed attempts (core mode: a failed final result). */
function textOf(record: JobRecord): HistoryText {
  const text: HistoryText = {
    payload: cut(record.payloadPreview),
    output: cut(record.outputPreview),
    workers: null,
    errors: null,
  };
  if (record.attempts.length === 0) {
    if (
      record.workerId !== "" && isFinal(record.state) &&
      record.state !== JobState.COMPLETED
    ) {
      // Core mode keeps no attempts: the final result is the one.
      text.errors = [{
        jobId: record.jobId,
        workerId: record.workerId,
        state: record.state,
        error: cut(record.error),
        at: record.finishedAt ?? record.submittedAt,
      }];
    }
    return text;
  }
  const workers: string[] = [];
  const errors: HistoryError[] = [];
  for (const a of record.attempts) {
    if (a.workerId && !workers.includes(a.workerId)) workers.push(a.workerId);
    if (a.state !== JobState.COMPLETED && a.workerId) {
      errors.push({
        jobId: record.jobId,
        workerId: a.workerId,
        state: a.state,
        error: cut(a.error),
        at: a.at,
      });
    }
  }
  if (workers.some((w) => w !== record.workerId)) text.workers = workers;
  if (errors.length > 0) {
    text.errors = errors.length > MAX_ERRORS_PER_JOB
      ? errors.slice(-MAX_ERRORS_PER_JOB)
      : errors;
  }
  return text;
}

/** Options of {@linkcode JobHistory}. */
export interface JobHistoryOptions {
  /** Most jobs held; the earliest submitted are dropped past it. Default {@linkcode HISTORY_CAPACITY}. */
  capacity?: number;
  /** Where the jobs are kept. Default: a store in memory (for tests and tools). */
  store?: HistoryStore;
  /**
   * Told when a write fails (the batch is dropped, the scheduler goes on).
   * Default: rethrown to whoever marked or searched.
   */
  onError?: (error: Error) => void;
}

/**
 * The index.
 *
 * @example
 * ```ts
 * const history = new JobHistory(jobSummary, { store: openHistoryStore(dir, name) });
 * scheduler.observe({ jobChanged: (r) => history.jobChanged(r) });
 * history.search({ text: "invoice" }, 50).jobs;
 * ```
 */
export class JobHistory {
  readonly #summarize: (record: JobRecord) => JobSummary;
  readonly #capacity: number;
  readonly #store: HistoryStore;
  readonly #onError?: (error: Error) => void;
  #marked = new Set<JobRecord>();
  #closed = false;

  /** An empty index; `summarize` makes a job's row (the API's `jobSummary`). */
  constructor(
    summarize: (record: JobRecord) => JobSummary,
    options: JobHistoryOptions = {},
  ) {
    this.#summarize = summarize;
    this.#capacity = options.capacity ?? HISTORY_CAPACITY;
    this.#store = options.store ?? new HistoryStore();
    // Room for every job held and a batch written before the oldest go.
    this.#store.reserve(this.#capacity + HISTORY_MARKED);
    this.#onError = options.onError;
  }

  /** Where the jobs are kept: a file's path, or `":memory:"`. */
  get path(): string {
    return this.#store.path;
  }

  /** Jobs held (after the marked changes are written). */
  get size(): number {
    this.flush();
    return this.#store.size;
  }

  /** Marks a job changed; called from the scheduler's observer. */
  jobChanged(record: JobRecord): void {
    if (this.#closed) return;
    this.#marked.add(record);
    if (this.#marked.size >= HISTORY_MARKED) this.#flushSettled();
  }

  /**
   * Writes the marked jobs that are final and keeps the others marked, to
   * be written once when they end rather than now and again then (a tenth
   * of the jobs at 100 in flight); every marked job when those in flight
   * are half the batch or more. A search still writes every marked job
   * first ({@linkcode JobHistory.flush}).
   */
  #flushSettled(): void {
    const marked = this.#marked;
    const running = new Set<JobRecord>();
    for (const record of marked) {
      if (!isFinal(record.state)) running.add(record);
    }
    if (running.size >= HISTORY_MARKED / 2) {
      this.flush();
      return;
    }
    for (const record of running) marked.delete(record);
    this.flush();
    this.#marked = running;
  }

  /** Writes the marked changes, in one transaction, and drops the oldest past the capacity. */
  flush(): void {
    if (this.#marked.size === 0) return;
    const marked = this.#marked;
    this.#marked = new Set();
    const summarize = this.#summarize;
    try {
      this.#store.write(
        Array.from(marked, (r) => ({ summary: summarize(r), text: textOf(r) })),
      );
      const over = this.#store.size - this.#capacity;
      if (over > 0) this.#store.dropOldest(over);
    } catch (error) {
      if (!this.#onError) throw error;
      this.#onError(error as Error);
    }
  }

  /** One job's row, if held. */
  get(jobId: string): JobSummary | undefined {
    this.flush();
    return this.#store.get(jobId);
  }

  /**
   * Up to `limit` jobs matching `query`, newest first, after `cursor` (a
   * `nextCursor` of an earlier page).
   */
  search(query: HistoryQuery, limit: number, cursor?: Position): HistoryPage {
    this.flush();
    const jobs = this.#store.search(query, limit + 1, cursor);
    let nextCursor: string | null = null;
    if (jobs.length > limit) {
      jobs.length = limit;
      const last = jobs[limit - 1];
      nextCursor = encodeCursor([last.submittedAt, last.jobId]);
    }
    return { jobs, nextCursor, held: this.#store.size };
  }

  /** The failed attempts remembered of `jobId` (the newest few), oldest first. */
  attemptErrors(jobId: string): readonly HistoryError[] {
    this.flush();
    return this.#store.attemptErrors(jobId);
  }

  /** The newest `limit` failures at `workerId`, newest first. */
  errorsOf(workerId: string, limit: number): HistoryError[] {
    this.flush();
    return this.#store.errorsAt(workerId, limit);
  }

  /** Stops keeping jobs and closes the store (deleting its file). */
  close(): void {
    this.#closed = true;
    this.#marked.clear();
    this.#store.close();
  }
}
