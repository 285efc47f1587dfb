/**
 * Search through history: a compact copy of every job the scheduler has
 * heard of (in durable mode, every entry of the ledger, which a starting
 * scheduler reads whole, so history survives a restart), far beyond the
 * job table's most recent few thousand, searchable by id prefix, topic,
 * state, worker, time and text, and paged newest first with a cursor.
 *
 * Cheap in the scheduler's hot path: a change only marks the job's record
 * (a Set insert); the marked records are copied into the index before every
 * search, or once {@linkcode HISTORY_MARKED} are marked. No timer. Bounded: at
 * most `capacity` jobs (the earliest submitted are dropped first), and of
 * each only {@linkcode HISTORY_TEXT_CHARS} characters of payload, output
 * and error are searched.
 *
 * @module
 */
import { isFinal, type JobState, type JobSummary } from "../contract/mod.ts";
import type { JobRecord } from "./job_table.ts";

/** Jobs kept by default: 100,000 with room (see docs/performance.md for their memory). */
export const HISTORY_CAPACITY = 250_000;
/**
 * Marked changes copied in at once, at the latest: bounds what waits, and
 * the pause of one copy (about 3.4 to 4.3 ms at the cost per job measured by
 * scripts/bench/history_cost.ts).
 */
export const HISTORY_MARKED = 1024;
/** Characters of the payload, the output and the error that are searched. */
export const HISTORY_TEXT_CHARS = 256;
/** Failed attempts of one job remembered for its workers' error lists. */
const MAX_ERRORS_PER_JOB = 5;

/** One failure of a job at a worker: what a worker's detail lists. */
export interface HistoryError {
  /** The job's id. */
  jobId: string;
  /** The worker the attempt ran on. */
  workerId: string;
  /** How it ended. */
  state: JobState;
  /** Why. */
  error: string;
  /** Epoch ms. */
  at: number;
}

/**
 * A job as the index keeps it: one object with the job's row beside it (two
 * per job; 250,000 of them live in the old generation, where every extra
 * object per job costs each major collection), the text kept as the
 * record's own strings (no copy, no concatenation), and the lists of
 * workers and errors only when a job has them.
 */
class Entry {
  summary: JobSummary;
  /**
   * The worker that made each attempt, and the final one: the one string in
   * core mode, which keeps no attempts; a list only when there were several.
   */
  workers: string | string[];
  /** Payload, output and error, each cut to HISTORY_TEXT_CHARS, as they are: a search matches them ignoring case. */
  payload: string;
  output: string;
  error: string;
  /** Failed attempts; `null` (most jobs) when none. */
  errors: HistoryError[] | null;
  /** Dropped from the order array lazily. */
  removed = false;

  constructor(summary: JobSummary, record: JobRecord) {
    this.summary = summary;
    this.workers = "";
    this.payload = "";
    this.output = "";
    this.error = "";
    this.errors = null;
    this.fill(record);
  }

  /** Takes the record's text, workers and errors (the summary is set apart). */
  fill(record: JobRecord): void {
    this.payload = cut(record.payloadPreview);
    this.output = cut(record.outputPreview);
    this.error = cut(record.error);
    if (record.attempts.length === 0) {
      // Core mode keeps no attempts: the final result is the one.
      this.workers = record.workerId;
      this.errors = record.workerId !== "" && isFinal(record.state) &&
          record.state !== "COMPLETED"
        ? [{
          jobId: record.jobId,
          workerId: record.workerId,
          state: record.state,
          error: this.error,
          at: record.finishedAt ?? record.submittedAt,
        }]
        : null;
      return;
    }
    const workers: string[] = [];
    const errors: HistoryError[] = [];
    for (const a of record.attempts) {
      if (a.workerId && !workers.includes(a.workerId)) workers.push(a.workerId);
      if (a.state !== "COMPLETED" && a.workerId) {
        errors.push({
          jobId: record.jobId,
          workerId: a.workerId,
          state: a.state,
          error: cut(a.error),
          at: a.at,
        });
      }
    }
    if (record.workerId && !workers.includes(record.workerId)) {
      workers.push(record.workerId);
    }
    this.workers = workers.length === 1 ? workers[0] : workers;
    this.errors = errors.length === 0
      ? null
      : errors.length > MAX_ERRORS_PER_JOB
      ? errors.slice(-MAX_ERRORS_PER_JOB)
      : errors;
  }

  /** Made an attempt at, or ended on, `worker`. */
  ranOn(worker: string): boolean {
    const w = this.workers;
    return typeof w === "string" ? w === worker : w.includes(worker);
  }
}

/** The first HISTORY_TEXT_CHARS characters (the string itself when shorter). */
function cut(text: string): string {
  return text.length > HISTORY_TEXT_CHARS
    ? text.slice(0, HISTORY_TEXT_CHARS)
    : text;
}

/** What a search keeps; every filter given must match. */
export interface HistoryQuery {
  /** Ids that start with this. */
  idPrefix?: string;
  /** Ids that contain this, any case. */
  idContains?: string;
  /** This topic exactly. */
  topic?: string;
  /** Any of these states. */
  states?: ReadonlySet<string>;
  /** Made an attempt at, or ended on, this worker. */
  worker?: string;
  /** Submitted at or after (epoch ms). */
  since?: number;
  /** Submitted before (epoch ms). */
  until?: number;
  /** Payload, output or error contains this, any case. */
  text?: string;
  /** Dead-lettered (true) or not (false). */
  deadLettered?: boolean;
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

/** A position in the order (submittedAt, jobId), newest first. */
export type Position = [number, string];

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

function before(a: JobSummary, at: Position): boolean {
  return a.submittedAt < at[0] || (a.submittedAt === at[0] && a.jobId < at[1]);
}

function compare(a: Entry, b: Entry): number {
  const x = a.summary, y = b.summary;
  return x.submittedAt - y.submittedAt ||
    (x.jobId < y.jobId ? -1 : x.jobId > y.jobId ? 1 : 0);
}

/**
 * The index.
 *
 * @example
 * ```ts
 * const history = new JobHistory(jobSummary);
 * scheduler.observe({ jobChanged: (r) => history.jobChanged(r) });
 * history.search({ text: "invoice" }, 50).jobs;
 * ```
 */
export class JobHistory {
  readonly #summarize: (record: JobRecord) => JobSummary;
  readonly #capacity: number;
  readonly #byId = new Map<string, Entry>();
  /** Entries in (submittedAt, jobId) order, oldest first; removed ones skipped. */
  #order: Entry[] = [];
  #sorted = true;
  #removed = 0;
  /** Entries before it in the order are all removed: where dropping starts. */
  #head = 0;
  #marked = new Set<JobRecord>();

  /** An empty index; `summarize` makes a job's row (the API's `jobSummary`). */
  constructor(
    summarize: (record: JobRecord) => JobSummary,
    options: { capacity?: number } = {},
  ) {
    this.#summarize = summarize;
    this.#capacity = options.capacity ?? HISTORY_CAPACITY;
  }

  /** Jobs held (after the marked changes are copied in). */
  get size(): number {
    this.flush();
    return this.#byId.size;
  }

  /** Marks a job changed; called from the scheduler's observer. */
  jobChanged(record: JobRecord): void {
    this.#marked.add(record);
    if (this.#marked.size >= HISTORY_MARKED) this.flush();
  }

  /** Copies the marked changes in. */
  flush(): void {
    if (this.#marked.size === 0) return;
    const marked = this.#marked;
    this.#marked = new Set();
    for (const record of marked) this.#put(record);
    while (this.#byId.size > this.#capacity) this.#dropOldest();
    if (this.#removed > this.#order.length / 2) {
      this.#order = this.#order.filter((e) => !e.removed);
      this.#removed = 0;
      this.#head = 0;
    }
  }

  /** One job's row, if held. */
  get(jobId: string): JobSummary | undefined {
    this.flush();
    return this.#byId.get(jobId)?.summary;
  }

  /**
   * Up to `limit` jobs matching `query`, newest first, after `cursor` (a
   * `nextCursor` of an earlier page).
   */
  search(query: HistoryQuery, limit: number, cursor?: Position): HistoryPage {
    this.flush();
    const order = this.#ordered();
    let i = order.length - 1;
    if (cursor) i = this.#lastBefore(order, cursor);
    const text = query.text
      ? new RegExp(query.text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i")
      : undefined;
    const contains = query.idContains?.toLowerCase();
    const jobs: JobSummary[] = [];
    let last: JobSummary | undefined;
    for (; i >= 0; i--) {
      const e = order[i];
      if (e.removed) continue;
      const s = e.summary;
      if (query.since !== undefined && s.submittedAt < query.since) break;
      if (query.until !== undefined && s.submittedAt >= query.until) continue;
      if (query.idPrefix && !s.jobId.startsWith(query.idPrefix)) continue;
      if (contains && !s.jobId.toLowerCase().includes(contains)) continue;
      if (query.topic && s.topic !== query.topic) continue;
      if (query.states && query.states.size > 0 && !query.states.has(s.state)) {
        continue;
      }
      if (
        query.deadLettered !== undefined &&
        (s.deadLettered === true) !== query.deadLettered
      ) continue;
      if (query.worker && !e.ranOn(query.worker)) continue;
      if (
        text && !text.test(e.payload) && !text.test(e.output) &&
        !text.test(e.error)
      ) continue;
      if (jobs.length === limit) {
        return {
          jobs,
          nextCursor: encodeCursor([last!.submittedAt, last!.jobId]),
          held: this.#byId.size,
        };
      }
      jobs.push(s);
      last = s;
    }
    return { jobs, nextCursor: null, held: this.#byId.size };
  }

  /** The newest `limit` failures at `workerId`, newest first. */
  errorsOf(workerId: string, limit: number): HistoryError[] {
    this.flush();
    const order = this.#ordered();
    const out: HistoryError[] = [];
    for (let i = order.length - 1; i >= 0 && out.length < limit; i--) {
      const e = order[i];
      if (e.removed || e.errors === null || !e.ranOn(workerId)) continue;
      for (let j = e.errors.length - 1; j >= 0; j--) {
        if (e.errors[j].workerId === workerId && out.length < limit) {
          out.push(e.errors[j]);
        }
      }
    }
    return out;
  }

  #put(record: JobRecord): void {
    const summary = this.#summarize(record);
    const held = this.#byId.get(record.jobId);
    if (held && held.summary.submittedAt === summary.submittedAt) {
      // Same place in the order: update in place.
      held.summary = summary;
      held.fill(record);
      return;
    }
    const entry = new Entry(summary, record);
    if (held) {
      held.removed = true;
      this.#removed++;
    }
    this.#byId.set(record.jobId, entry);
    // Jobs come in about the order they were submitted (within a few ms
    // across replicas): put a late one in its place near the end; only one
    // far out of order (the ledger read at start) makes a full sort.
    const order = this.#order;
    let k = order.length - 1;
    const stop = Math.max(this.#head, order.length - 64);
    while (k >= stop && compare(order[k], entry) > 0) k--;
    if (k === order.length - 1) {
      order.push(entry);
    } else if (k >= stop || k < 0 || compare(order[k], entry) <= 0) {
      order.splice(k + 1, 0, entry);
    } else {
      this.#sorted = false;
      order.push(entry);
    }
  }

  #dropOldest(): void {
    const order = this.#ordered();
    while (this.#head < order.length) {
      const e = order[this.#head++];
      if (e.removed) continue;
      e.removed = true;
      this.#removed++;
      this.#byId.delete(e.summary.jobId);
      return;
    }
  }

  #ordered(): Entry[] {
    if (!this.#sorted) {
      // Entries arrive out of order only at start (the ledger is read in
      // the order of its last writes) or across replicas' clocks.
      this.#order = this.#order.filter((e) => !e.removed).sort(compare);
      this.#removed = 0;
      this.#head = 0;
      this.#sorted = true;
    }
    return this.#order;
  }

  /** The index of the newest entry strictly before `at`, or -1. */
  #lastBefore(order: Entry[], at: Position): number {
    let lo = 0, hi = order.length; // first index not before `at`
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(order[mid].summary, at)) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }
}
