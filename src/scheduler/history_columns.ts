/**
 * Where the job history keeps its jobs: in columns, one slot per job, not
 * an object per job. Up to 250,000 jobs stay for long, so an object (or
 * two) per job was copied once more when it survived its first collection
 * and visited by every full collection after: the history cost the
 * scheduler more per job than the rest of the dashboard together (see
 * docs/performance.md). Numbers and flags live in typed arrays, which the
 * collector does not look into; the strings kept are the record's own (id,
 * error, text) or one shared copy (topics, workers, priorities).
 *
 * @module
 */
import type { JobState, JobSummary } from "../contract/mod.ts";
import type { JobRecord } from "./job_table.ts";

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

/** What only some jobs have: several workers, failed attempts. */
export interface HistoryExtra {
  /** Every worker that made an attempt, and the final one; `null`: only the final one. */
  workers: string[] | null;
  /** Failed attempts, newest last; `null`: none. */
  errors: HistoryError[] | null;
}

const REMOVED = 1;
const DEAD_LETTERED = 2;
const EXTRA = 4;
const DISCARDED = 8;
/** Numbers per slot: submittedAt, finishedAt, executionMs, roundTripMs. */
const NUMBERS = 4;
/** Distinct topics, workers and priorities shared; beyond, each job keeps its own string. */
const MAX_SHARED = 4096;

/**
 * The columns. A removed slot is reused only after {@linkcode
 * HistoryColumns.release}, which the index calls once no list of its own
 * still names the slot.
 */
export class HistoryColumns {
  /** Each slot's job id. */
  ids: string[] = [];
  /** Each slot's topic. */
  topics: string[] = [];
  /** Each slot's state. */
  states: JobState[] = [];
  /** Each slot's priority name. */
  priorities: string[] = [];
  /** The worker that ran each slot's job; "" until one reports. */
  workerIds: string[] = [];
  /** The summary's error, whole (a search matches only its start). */
  errors: string[] = [];
  /** Each slot's payload preview, cut to the searched length. */
  payloads: string[] = [];
  /** Each slot's output preview, cut to the searched length. */
  outputs: string[] = [];
  #numbers = new Float64Array(1024 * NUMBERS);
  #flags = new Uint8Array(1024);
  #extra = new Map<number, HistoryExtra>();
  #free: number[] = [];
  #freeLater: number[] = [];
  #shared = new Map<string, string>();

  /** A slot for a new job. */
  alloc(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) {
      this.#flags[reused] = 0;
      return reused;
    }
    const slot = this.ids.length;
    if (slot === this.#flags.length) {
      const flags = new Uint8Array(slot * 2);
      flags.set(this.#flags);
      this.#flags = flags;
      const numbers = new Float64Array(slot * 2 * NUMBERS);
      numbers.set(this.#numbers);
      this.#numbers = numbers;
    }
    this.ids.push("");
    this.topics.push("");
    this.states.push("PENDING");
    this.priorities.push("");
    this.workerIds.push("");
    this.errors.push("");
    this.payloads.push("");
    this.outputs.push("");
    return slot;
  }

  /** Writes a job's row (the API's summary of `record`) and text into `slot`. */
  write(
    slot: number,
    row: JobSummary,
    record: JobRecord,
    text: (s: string) => string,
    extra: HistoryExtra | null,
  ): void {
    this.ids[slot] = row.jobId;
    this.topics[slot] = this.#share(row.topic);
    this.states[slot] = row.state;
    this.priorities[slot] = this.#share(row.priority);
    this.workerIds[slot] = this.#share(row.workerId);
    this.errors[slot] = row.error;
    this.payloads[slot] = text(record.payloadPreview);
    this.outputs[slot] = text(record.outputPreview);
    const n = slot * NUMBERS;
    this.#numbers[n] = row.submittedAt;
    this.#numbers[n + 1] = row.finishedAt ?? NaN;
    this.#numbers[n + 2] = row.executionMs;
    this.#numbers[n + 3] = row.roundTripMs ?? NaN;
    let flags = row.deadLettered === true ? DEAD_LETTERED : 0;
    if (row.discarded === true) flags |= DISCARDED;
    if (extra) {
      flags |= EXTRA;
      this.#extra.set(slot, extra);
    } else if (this.#flags[slot] & EXTRA) {
      this.#extra.delete(slot);
    }
    this.#flags[slot] = flags;
  }

  /** Epoch ms the job in `slot` was submitted. */
  submittedAt(slot: number): number {
    return this.#numbers[slot * NUMBERS];
  }

  /** The job in `slot` is dead-lettered. */
  deadLettered(slot: number): boolean {
    return (this.#flags[slot] & DEAD_LETTERED) !== 0;
  }

  /** The job in `slot` was discarded from the dead-letter list. */
  discarded(slot: number): boolean {
    return (this.#flags[slot] & DISCARDED) !== 0;
  }

  /** The slot was removed (and not yet reused). */
  removed(slot: number): boolean {
    return (this.#flags[slot] & REMOVED) !== 0;
  }

  /** Several workers or failed attempts of the job in `slot`, if it has them. */
  extra(slot: number): HistoryExtra | undefined {
    return this.#flags[slot] & EXTRA ? this.#extra.get(slot) : undefined;
  }

  /** The job in `slot` made an attempt at, or ended on, `worker`. */
  ranOn(slot: number, worker: string): boolean {
    return this.workerIds[slot] === worker ||
      (this.extra(slot)?.workers?.includes(worker) ?? false);
  }

  /** The job's row, as the API's summary made it. */
  summary(slot: number): JobSummary {
    const n = slot * NUMBERS;
    const finishedAt = this.#numbers[n + 1];
    const roundTripMs = this.#numbers[n + 3];
    const row: JobSummary = {
      jobId: this.ids[slot],
      topic: this.topics[slot],
      state: this.states[slot],
      priority: this.priorities[slot],
      workerId: this.workerIds[slot],
      executionMs: this.#numbers[n + 2],
      roundTripMs: Number.isNaN(roundTripMs) ? null : roundTripMs,
      submittedAt: this.#numbers[n],
      finishedAt: Number.isNaN(finishedAt) ? null : finishedAt,
      error: this.errors[slot],
    };
    if (this.deadLettered(slot)) row.deadLettered = true;
    if (this.discarded(slot)) row.discarded = true;
    return row;
  }

  /** Marks `slot` removed and lets its strings go; reusable after {@linkcode HistoryColumns.release}. */
  remove(slot: number): void {
    if (this.#flags[slot] & EXTRA) this.#extra.delete(slot);
    this.#flags[slot] = REMOVED;
    // The id and time stay until the slot is reused: the order, which
    // still names the slot, is sorted by them.
    this.errors[slot] = this.payloads[slot] = this.outputs[slot] = "";
    this.#freeLater.push(slot);
  }

  /** The removed slots may be reused: no list names them any more. */
  release(): void {
    for (const slot of this.#freeLater) this.#free.push(slot);
    this.#freeLater = [];
  }

  /** One copy of a topic, worker or priority for every job that names it. */
  #share(s: string): string {
    if (s === "") return s;
    const shared = this.#shared.get(s);
    if (shared !== undefined) return shared;
    if (this.#shared.size < MAX_SHARED) this.#shared.set(s, s);
    return s;
  }
}
