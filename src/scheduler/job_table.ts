/**
 * The job table: every recent job's state and timings, bounded in size, with
 * deadlines for jobs that never report back.
 *
 * @module
 */
import type { JobRequest, JobResult } from "../bus/messages.ts";
import {
  type FinalState,
  finalState,
  type JobPriorityName,
  JobState,
  priorityName,
} from "../contract/mod.ts";
import { Ring } from "./ring.ts";

export type { JobState };

/** How much of a payload or output the table keeps for display. */
export const PREVIEW_BYTES = 1024;

/** One attempt of a job at a worker (durable mode), as the ledger keeps it. */
export interface AttemptRecord {
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** The worker that made it. */
  workerId: string;
  /** How it ended. */
  state: FinalState;
  /** Why it failed; "" when it completed. */
  error: string;
  /** Run time the worker measured, in ms. */
  executionMs: number;
  /** Epoch ms the scheduler recorded it. */
  at: number;
}

/** The attempts of a job in core mode, which keeps none: one shared empty list. */
export const NO_ATTEMPTS: readonly AttemptRecord[] = Object.freeze([]);

/** One job as the table knows it. Times are epoch ms. */
export interface JobRecord {
  /** The submitter's id for the job; the table's key. */
  jobId: string;
  /** The trace of the packet that submitted it. */
  traceId: string;
  /** The subject family it was submitted for, e.g. `job.echo`. */
  topic: string;
  /** A {@linkcode JobPriorityName}, or the wire number of one this version does not know. */
  priority: JobPriorityName | string;
  /** Who submitted it (the packet's sender id). */
  submitter: string;
  /** Where the job's context is kept, as the submitter named it; "" for none. */
  contextPtr: string;
  /** The adapter the submitter asked for; "" for none. */
  adapterId: string;
  /** Environment variables for the job. */
  envVars: Record<string, string>;
  /** Size of the inline payload, in bytes. */
  payloadBytes: number;
  /** The payload's first {@linkcode PREVIEW_BYTES} bytes as text. */
  payloadPreview: string;
  /** Where it is in its life now. */
  state: JobState;
  /** The subject it was dispatched to. */
  subject: string;
  /** When the scheduler received it. */
  submittedAt: number;
  /** When it was sent to {@linkcode JobRecord.subject}; unset until then. */
  dispatchedAt?: number;
  /** When it reached a final state; unset until then. */
  finishedAt?: number;
  /** When the submitter created it (its packet's `created_at`), if known. */
  createdAt?: number;
  /** The worker that ran it; "" until a worker reports. */
  workerId: string;
  /** Run time the worker measured, in ms; 0 until it reports. */
  executionMs: number;
  /** Where the worker put the result, if elsewhere; "" for none. */
  resultPtr: string;
  /** Size of the inline output, in bytes. */
  outputBytes: number;
  /** The output's first {@linkcode PREVIEW_BYTES} bytes as text. */
  outputPreview: string;
  /** Why it failed, was denied or timed out. */
  error: string;
  /** Its attempts so far, oldest first (durable mode; none in core mode). */
  attempts: readonly AttemptRecord[];
  /** How many attempts it may take (durable mode); 0 in core mode. */
  maxAttempts: number;
  /** It failed every attempt it was allowed and waits on the dead-letter list. */
  deadLettered: boolean;
  /** Taken off the dead-letter list by hand (durable mode): when and by whom. */
  discarded?: { readonly at: number; readonly by: string };
  /** Each retry by hand (durable mode), oldest first; absent when none. */
  retriedByHand?: readonly HandRetryRecord[];
  /** It can be retried by hand now (durable mode; absent in core mode). */
  retryable?: boolean;
}

/** One retry by hand of a job, and how the job had ended before it. */
export interface HandRetryRecord {
  /** Epoch ms it was dispatched again. */
  at: number;
  /** Who asked. */
  by: string;
  /** The final state it had. */
  state: FinalState;
  /** Its error then. */
  error: string;
  /** It was dead-lettered then. */
  deadLettered: boolean;
  /** When it had been dispatched before. */
  dispatchedAt?: number;
  /** When it had ended. */
  finishedAt?: number;
}

/** Options for {@linkcode JobTable}. */
export interface JobTableOptions {
  /** Most jobs held; the oldest finished are evicted first. Default 10,000. */
  capacity?: number;
  /** A dispatched job with no result after this many ms times out. Default 60,000. */
  timeoutMs?: number;
  /** The clock, for tests. Default `Date.now`. */
  clock?: () => number;
}

/** The answer of {@linkcode JobTable.admit}. */
export type Admission =
  | { admitted: true; record: JobRecord }
  | { admitted: false; existing: JobRecord }
  | { admitted: false; full: true };

const decoder = new TextDecoder();

function preview(bytes: Uint8Array): string {
  return bytes.length === 0
    ? ""
    : decoder.decode(bytes.subarray(0, PREVIEW_BYTES));
}

/**
 * A bounded table of jobs in submission order.
 *
 * In-flight jobs are never evicted; when the table is full of them, new jobs
 * are refused (the scheduler reports them FAILED) rather than dropped.
 * Deadlines are found without a timer per job: every job has the same
 * timeout, so in-flight jobs expire in admission order.
 *
 * @example
 * ```ts
 * const table = new JobTable({ capacity: 10_000, timeoutMs: 60_000 });
 * const admission = table.admit(request, { traceId, submitter });
 * ```
 */
export class JobTable {
  readonly #records = new Map<string, JobRecord>();
  /** Jobs not yet final, in admission (hence deadline) order. */
  readonly #inflight = new Map<string, JobRecord>();
  /**
   * Final jobs' ids, in the order they finished: the eviction order. A ring
   * buffer, not a Set: taking the oldest entry of a Set whose front was just
   * deleted walks over every deleted slot until V8 rehashes, which made
   * eviction the scheduler's top self-time function under load.
   */
  readonly #finished = new Ring<string>();
  readonly #capacity: number;
  readonly #timeoutMs: number;
  readonly #clock: () => number;

  /** An empty table. */
  constructor(options: JobTableOptions = {}) {
    this.#capacity = options.capacity ?? 10_000;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#clock = options.clock ?? Date.now;
  }

  /** Jobs held now. */
  get size(): number {
    return this.#records.size;
  }

  /** Jobs not yet final. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** The configured timeout, in ms. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /**
   * Takes a new job in as PENDING. A job id the table still holds is not
   * admitted again (`existing`); nor is any job when every slot holds an
   * in-flight job (`full`).
   */
  admit(
    job: JobRequest,
    meta: { traceId: string; submitter: string; createdAt?: number },
  ): Admission {
    const existing = this.#records.get(job.jobId);
    if (existing) return { admitted: false, existing };
    if (this.#records.size >= this.#capacity && !this.#evictOne()) {
      return { admitted: false, full: true };
    }
    const record = this.#newRecord(job.jobId, job, meta);
    this.#records.set(record.jobId, record);
    this.#inflight.set(record.jobId, record);
    return { admitted: true, record };
  }

  /** Marks a PENDING job DISPATCHED to `subject`. */
  dispatched(record: JobRecord, subject: string): void {
    record.state = JobState.DISPATCHED;
    record.subject = subject;
    record.dispatchedAt = this.#clock();
  }

  /**
   * Records a job's result, for a job this table holds in flight only: the
   * first result wins. A result for a job already final, or for one this
   * table never admitted (forged, another core replica's, or evicted),
   * changes nothing and returns `undefined`; {@linkcode JobTable.get} tells
   * the two apart. Never a new entry: what a peer says of a job the
   * scheduler did not dispatch is not shown as a job.
   */
  finish(result: JobResult): JobRecord | undefined {
    const record = this.#inflight.get(result.jobId);
    if (!record) return undefined;
    record.state = finalState(result.status);
    record.finishedAt = this.#clock();
    record.workerId = result.workerId;
    record.executionMs = Number(result.executionMs);
    record.resultPtr = result.resultPtr;
    record.outputBytes = result.output.length;
    record.outputPreview = preview(result.output);
    record.error = result.error;
    this.#inflight.delete(record.jobId);
    this.#finished.push(record.jobId);
    return record;
  }

  /**
   * The in-flight jobs whose deadline has passed, each marked TIMEOUT.
   * Cost is proportional to the jobs expired, not to the table.
   */
  expire(): JobRecord[] {
    const now = this.#clock();
    const expired: JobRecord[] = [];
    for (const record of this.#inflight.values()) {
      if (now - record.submittedAt < this.#timeoutMs) break;
      expired.push(record);
    }
    for (const record of expired) {
      record.state = JobState.TIMEOUT;
      record.finishedAt = now;
      record.error = `no result within ${this.#timeoutMs} ms`;
      this.#inflight.delete(record.jobId);
      this.#finished.push(record.jobId);
    }
    return expired;
  }

  /**
   * Holds `fresh` as the job's record, as the durable ledger says it is now:
   * the record already held is updated in place (observers may hold it),
   * or a new one is taken in, evicting the oldest finished job when the
   * table is full. Returns the record held, or `undefined` when the table
   * is full of jobs in flight and the job is not held (it is still in the
   * ledger; the table is only the view of its most recent part).
   * `onEvicted` hears of the record evicted to make room, if any.
   */
  upsert(
    fresh: JobRecord,
    onEvicted?: (record: JobRecord) => void,
  ): JobRecord | undefined {
    let record = this.#records.get(fresh.jobId);
    const existed = record !== undefined;
    const wasInflight = existed && this.#inflight.has(fresh.jobId);
    if (record) {
      Object.assign(record, fresh);
    } else {
      if (
        this.#records.size >= this.#capacity && !this.#evictOne(onEvicted)
      ) {
        return undefined;
      }
      record = fresh;
      this.#records.set(record.jobId, record);
    }
    const final = record.finishedAt !== undefined;
    if (final && (wasInflight || !existed)) {
      this.#inflight.delete(record.jobId);
      this.#finished.push(record.jobId);
    } else if (!final && !wasInflight) {
      // New, or final before and started again (a retry by hand).
      this.#inflight.set(record.jobId, record);
    }
    return record;
  }

  /**
   * The in-flight jobs whose deadline has passed, oldest first, without
   * changing them: in durable mode the ledger decides (one replica wins
   * the compare-and-set) and the table follows it.
   */
  overdue(limit = 1_000): JobRecord[] {
    const now = this.#clock();
    const out: JobRecord[] = [];
    for (const record of this.#inflight.values()) {
      // From its latest dispatch: a job retried by hand has a new deadline.
      const since = record.dispatchedAt ?? record.submittedAt;
      if (out.length >= limit || now - since < this.#timeoutMs) {
        break;
      }
      out.push(record);
    }
    return out;
  }

  /** One job, or `undefined`. */
  get(jobId: string): JobRecord | undefined {
    return this.#records.get(jobId);
  }

  /** Jobs, newest first, that `keep` accepts, at most `limit` of them. */
  recent(limit: number, keep?: (record: JobRecord) => boolean): JobRecord[] {
    const out: JobRecord[] = [];
    const all = [...this.#records.values()];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      if (!keep || keep(all[i])) out.push(all[i]);
    }
    return out;
  }

  #evictOne(onEvicted?: (record: JobRecord) => void): boolean {
    for (;;) {
      const oldest = this.#finished.shift();
      if (oldest === undefined) return false;
      // A job started again after it finished (durable mode) is in flight
      // again: not evicted, and its id is queued again when it ends.
      if (this.#inflight.has(oldest)) continue;
      const record = this.#records.get(oldest);
      if (record === undefined) continue;
      this.#records.delete(oldest);
      onEvicted?.(record);
      return true;
    }
  }

  /** A PENDING record of `job`, as submitted. */
  #newRecord(
    jobId: string,
    job: JobRequest,
    meta: { traceId: string; submitter: string; createdAt?: number },
  ): JobRecord {
    return {
      jobId,
      traceId: meta.traceId,
      topic: job.topic,
      priority: priorityName(job.priority),
      submitter: meta.submitter,
      contextPtr: job.contextPtr,
      adapterId: job.adapterId,
      envVars: job.envVars,
      payloadBytes: job.payload.length,
      payloadPreview: preview(job.payload),
      state: JobState.PENDING,
      subject: "",
      submittedAt: this.#clock(),
      // Present from the start, though unset: added later, each record
      // would change shape twice and take a second block for its fields
      // (about 60 bytes a job more for the collector).
      dispatchedAt: undefined,
      finishedAt: undefined,
      createdAt: meta.createdAt,
      workerId: "",
      executionMs: 0,
      resultPtr: "",
      outputBytes: 0,
      outputPreview: "",
      error: "",
      attempts: NO_ATTEMPTS,
      maxAttempts: 0,
      deadLettered: false,
    };
  }
}
