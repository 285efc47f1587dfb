/**
 * A job's row in the history store's \`jobs\` table: its columns, the values
 * written, and a row read back as the API shows it.
 *
 * @module
 */
import type { JobState, JobSummary } from "../contract/mod.ts";
import {
  HISTORY_TEXT_CHARS,
  TEXT_SEPARATOR,
  WORKER_SEPARATOR,
} from "./history_query.ts";

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

/** What the store keeps of a job besides its summary. */
export interface HistoryText {
  /** The payload preview, cut to the searched length. */
  payload: string;
  /** The output preview, cut to the searched length. */
  output: string;
  /** Every worker that made an attempt, when more than the final one; else `null`. */
  workers: readonly string[] | null;
  /** Failed attempts, newest last; `null`: none. */
  errors: readonly HistoryError[] | null;
}

/** A job to write. */
export interface HistoryRow {
  /** Its row, as the API shows it. */
  summary: JobSummary;
  /** What is searched and listed besides. */
  text: HistoryText;
}

/** The columns of a job's summary, as read. */
export const COLUMNS =
  "job_id, submitted_at, topic, state, priority, worker_id, execution_ms, round_trip_ms, finished_at, error, dead, discarded";
/**
 * Written besides the key (submitted_at, job_id), in the order of the statements' parameters.
 */
export const WRITTEN = [
  ...COLUMNS.split(", ").slice(2),
  "text",
  "workers",
  "errors",
];

/** A row as SQLite returns it. */
export type Row = Record<string, string | number | null>;

/** A row read back, as the API shows it. */
export function summaryOf(r: Row): JobSummary {
  const row: JobSummary = {
    jobId: r.job_id as string,
    topic: r.topic as string,
    state: r.state as JobState,
    priority: r.priority as string,
    workerId: r.worker_id as string,
    executionMs: r.execution_ms as number,
    roundTripMs: r.round_trip_ms as number | null,
    submittedAt: r.submitted_at as number,
    finishedAt: r.finished_at as number | null,
    error: r.error as string,
  };
  if (r.dead === 1) row.deadLettered = true;
  if (r.discarded === 1) row.discarded = true;
  return row;
}

/**
 * What a text search tests: the payload, the output unless it repeats the
 * payload (an echo), and the start of the error, apart.
 */
function searched(error: string, t: HistoryText): string {
  let text = t.payload;
  if (t.output !== "" && t.output !== t.payload) {
    text += TEXT_SEPARATOR + t.output;
  }
  if (error !== "") {
    text += TEXT_SEPARATOR +
      (error.length > HISTORY_TEXT_CHARS
        ? error.slice(0, HISTORY_TEXT_CHARS)
        : error);
  }
  return text;
}

/** Errors as stored: `[workerId, state, error, at]` each, as JSON. */
export function errorsOf(jobId: string, stored: unknown): HistoryError[] {
  if (typeof stored !== "string") return [];
  return (JSON.parse(stored) as [string, JobState, string, number][]).map((
    [workerId, state, error, at],
  ) => ({ jobId, workerId, state, error, at }));
}

/**
 * Puts the values of a job's {@linkcode WRITTEN} columns, in their order
 * (its key, submitted_at and job_id, apart), into `out` from `at`: the
 * store fills one array of many rows rather than make one per row.
 */
export function putRowValues(
  out: (string | number | null)[],
  at: number,
  s: JobSummary,
  t: HistoryText,
): void {
  out[at] = s.topic;
  out[at + 1] = s.state;
  out[at + 2] = s.priority;
  out[at + 3] = s.workerId;
  out[at + 4] = s.executionMs;
  out[at + 5] = s.roundTripMs;
  out[at + 6] = s.finishedAt;
  out[at + 7] = s.error;
  out[at + 8] = s.deadLettered === true ? 1 : 0;
  out[at + 9] = s.discarded === true ? 1 : 0;
  out[at + 10] = searched(s.error, t);
  out[at + 11] = t.workers === null
    ? null
    : `${WORKER_SEPARATOR}${
      t.workers.join(WORKER_SEPARATOR)
    }${WORKER_SEPARATOR}`;
  out[at + 12] = t.errors === null ? null : JSON.stringify(
    t.errors.map((e) => [e.workerId, e.state, e.error, e.at]),
  );
}
