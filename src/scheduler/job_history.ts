/**
 * Search through history: a compact copy of every job the scheduler has
 * heard of (in durable mode, every entry of the ledger, which a starting
 * scheduler reads whole, so history survives a restart), far beyond the
 * job table's most recent few thousand, searchable by id prefix, topic,
 * state, worker, time and text, and paged newest first with a cursor.
 *
 * Cheap in the scheduler's hot path: a change only marks the job's record
 * (a Set insert); the marked records are copied into the index before every
 * search, or once {@linkcode HISTORY_MARKED} are marked, into columns
 * ({@linkcode HistoryColumns}), not an object per job. No timer. Bounded: at
 * most `capacity` jobs (the earliest submitted are dropped first), and of
 * each only {@linkcode HISTORY_TEXT_CHARS} characters of payload, output
 * and error are searched.
 *
 * @module
 */
import { isFinal, JobState, type JobSummary } from "../contract/mod.ts";
import type { JobRecord } from "./job_table.ts";
import {
  HistoryColumns,
  type HistoryError,
  type HistoryExtra,
} from "./history_columns.ts";

export type { HistoryError };

/** Jobs kept by default: 100,000 with room (about 256 bytes of heap each, see docs/performance.md). */
export const HISTORY_CAPACITY = 250_000;
/**
 * Marked changes copied in at once, at the latest: bounds what waits, and
 * the pause of one copy (4 to 8 ms at the 4 to 8 µs per job that
 * scripts/bench/history_cost.ts measured on the shared machine).
 */
export const HISTORY_MARKED = 1024;
/** Characters of the payload, the output and the error that are searched. */
export const HISTORY_TEXT_CHARS = 256;
/** Failed attempts of one job remembered for its workers' error lists. */
const MAX_ERRORS_PER_JOB = 5;

/** The first HISTORY_TEXT_CHARS characters (the string itself when shorter). */
function cut(text: string): string {
  return text.length > HISTORY_TEXT_CHARS
    ? text.slice(0, HISTORY_TEXT_CHARS)
    : text;
}

/**
 * The payload, output or error of the job in `slot` matches `text`. Three
 * tests a job, not one over a joined copy (which the hot path would have to
 * make): an empty text, or an output that repeats the payload (an echo), is
 * not tested again.
 */
function matchesText(text: RegExp, c: HistoryColumns, slot: number): boolean {
  const payload = c.payloads[slot], output = c.outputs[slot];
  const error = c.errors[slot];
  return (payload !== "" && text.test(payload)) ||
    (output !== "" && output !== payload && text.test(output)) ||
    (error !== "" && text.test(cut(error)));
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
  /** On the dead-letter list (true: dead-lettered, not discarded) or not (false). */
  deadLettered?: boolean;
  /** The error contains this, any case. */
  error?: string;
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

/** What only some jobs have: several workers, failed attempts (core mode: a failed final result). */
function extraOf(record: JobRecord): HistoryExtra | null {
  if (record.attempts.length === 0) {
    if (
      record.workerId === "" || !isFinal(record.state) ||
      record.state === JobState.COMPLETED
    ) return null;
    // Core mode keeps no attempts: the final result is the one.
    return {
      workers: null,
      errors: [{
        jobId: record.jobId,
        workerId: record.workerId,
        state: record.state,
        error: cut(record.error),
        at: record.finishedAt ?? record.submittedAt,
      }],
    };
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
  const others = workers.filter((w) => w !== record.workerId);
  if (others.length === 0 && errors.length === 0) return null;
  return {
    workers: others.length === 0 ? null : workers,
    errors: errors.length === 0
      ? null
      : errors.length > MAX_ERRORS_PER_JOB
      ? errors.slice(-MAX_ERRORS_PER_JOB)
      : errors,
  };
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
  readonly #columns = new HistoryColumns();
  /** Job id → its slot in the columns. */
  readonly #byId = new Map<string, number>();
  /** Slots in (submittedAt, jobId) order, oldest first; removed ones skipped. */
  #order: number[] = [];
  #sorted = true;
  #removed = 0;
  /** Slots before it in the order are all removed: where dropping starts. */
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
    if (this.#removed > this.#order.length / 2) this.#compact();
  }

  /** One job's row, if held. */
  get(jobId: string): JobSummary | undefined {
    this.flush();
    const slot = this.#byId.get(jobId);
    return slot === undefined ? undefined : this.#columns.summary(slot);
  }

  /**
   * Up to `limit` jobs matching `query`, newest first, after `cursor` (a
   * `nextCursor` of an earlier page).
   */
  search(query: HistoryQuery, limit: number, cursor?: Position): HistoryPage {
    this.flush();
    const order = this.#ordered();
    const c = this.#columns;
    let i = order.length - 1;
    if (cursor) i = this.#lastBefore(order, cursor);
    const text = query.text
      ? new RegExp(query.text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i")
      : undefined;
    const contains = query.idContains?.toLowerCase();
    const error = query.error?.toLowerCase();
    const slots: number[] = [];
    for (; i >= 0; i--) {
      const k = order[i];
      if (c.removed(k)) continue;
      const at = c.submittedAt(k);
      if (query.since !== undefined && at < query.since) break;
      if (query.until !== undefined && at >= query.until) continue;
      const id = c.ids[k];
      if (query.idPrefix && !id.startsWith(query.idPrefix)) continue;
      if (contains && !id.toLowerCase().includes(contains)) continue;
      if (query.topic && c.topics[k] !== query.topic) continue;
      if (
        query.states && query.states.size > 0 && !query.states.has(c.states[k])
      ) continue;
      if (
        query.deadLettered !== undefined &&
        (c.deadLettered(k) && !c.discarded(k)) !== query.deadLettered
      ) continue;
      if (error && !c.errors[k].toLowerCase().includes(error)) continue;
      if (query.worker && !c.ranOn(k, query.worker)) continue;
      if (text && !matchesText(text, c, k)) continue;
      if (slots.length === limit) {
        const last = slots[slots.length - 1];
        return {
          jobs: slots.map((slot) => c.summary(slot)),
          nextCursor: encodeCursor([c.submittedAt(last), c.ids[last]]),
          held: this.#byId.size,
        };
      }
      slots.push(k);
    }
    return {
      jobs: slots.map((slot) => c.summary(slot)),
      nextCursor: null,
      held: this.#byId.size,
    };
  }

  /** The failed attempts remembered of `jobId` (the newest few), oldest first. */
  attemptErrors(jobId: string): readonly HistoryError[] {
    this.flush();
    const slot = this.#byId.get(jobId);
    return (slot === undefined
      ? undefined
      : this.#columns.extra(slot)?.errors) ??
      [];
  }

  /** The newest `limit` failures at `workerId`, newest first. */
  errorsOf(workerId: string, limit: number): HistoryError[] {
    this.flush();
    const order = this.#ordered();
    const c = this.#columns;
    const out: HistoryError[] = [];
    for (let i = order.length - 1; i >= 0 && out.length < limit; i--) {
      const k = order[i];
      if (c.removed(k)) continue;
      const errors = c.extra(k)?.errors;
      if (!errors || !c.ranOn(k, workerId)) continue;
      for (let j = errors.length - 1; j >= 0; j--) {
        if (errors[j].workerId === workerId && out.length < limit) {
          out.push(errors[j]);
        }
      }
    }
    return out;
  }

  #put(record: JobRecord): void {
    const row = this.#summarize(record);
    const c = this.#columns;
    const held = this.#byId.get(record.jobId);
    if (held !== undefined && c.submittedAt(held) === row.submittedAt) {
      // Same place in the order: update in place.
      c.write(held, row, record, cut, extraOf(record));
      return;
    }
    if (held !== undefined) {
      c.remove(held);
      this.#removed++;
    }
    const slot = c.alloc();
    c.write(slot, row, record, cut, extraOf(record));
    this.#byId.set(record.jobId, slot);
    // Jobs come in about the order they were submitted (within a few ms
    // across replicas): put a late one in its place near the end; only one
    // far out of order (the ledger read at start) makes a full sort.
    const order = this.#order;
    let k = order.length - 1;
    const stop = Math.max(this.#head, order.length - 64);
    while (k >= stop && this.#compare(order[k], slot) > 0) k--;
    if (k === order.length - 1) {
      order.push(slot);
    } else if (k >= stop || k < 0 || this.#compare(order[k], slot) <= 0) {
      order.splice(k + 1, 0, slot);
    } else {
      this.#sorted = false;
      order.push(slot);
    }
  }

  #compare(a: number, b: number): number {
    const c = this.#columns;
    const x = c.ids[a], y = c.ids[b];
    return c.submittedAt(a) - c.submittedAt(b) || (x < y ? -1 : x > y ? 1 : 0);
  }

  #dropOldest(): void {
    const order = this.#ordered();
    const c = this.#columns;
    while (this.#head < order.length) {
      const k = order[this.#head++];
      if (c.removed(k)) continue;
      this.#byId.delete(c.ids[k]);
      c.remove(k);
      this.#removed++;
      return;
    }
  }

  /** Drops the removed slots from the order; only then may they be reused. */
  #compact(): void {
    const c = this.#columns;
    this.#order = this.#order.filter((k) => !c.removed(k));
    this.#removed = 0;
    this.#head = 0;
    c.release();
  }

  #ordered(): number[] {
    if (!this.#sorted) {
      // Entries arrive out of order only at start (the ledger is read in
      // the order of its last writes) or across replicas' clocks.
      this.#compact();
      this.#order.sort((a, b) => this.#compare(a, b));
      this.#sorted = true;
    }
    return this.#order;
  }

  /** The index of the newest slot strictly before `at`, or -1. */
  #lastBefore(order: number[], at: Position): number {
    const c = this.#columns;
    let lo = 0, hi = order.length; // first index not before `at`
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const k = order[mid];
      const t = c.submittedAt(k);
      if (t < at[0] || (t === at[0] && c.ids[k] < at[1])) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }
}
