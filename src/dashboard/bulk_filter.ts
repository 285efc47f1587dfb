/**
 * The body of `POST /api/jobs/bulk`, checked at the edge: the action, the
 * filter (to a history query: the fields it shares with `GET /api/jobs`
 * match as the search's do) and the dry-run flag, or what is wrong with
 * them in words a caller can act on.
 *
 * @module
 */
import {
  BULK_ACTIONS,
  type BulkActionName,
  type BulkFilter,
  JOB_STATES,
  type JobState,
} from "../contract/mod.ts";
import type { HistoryQuery, JobHistory } from "../scheduler/job_history.ts";

/** A checked bulk request. */
export interface ParsedBulk {
  /** What to do. */
  action: BulkActionName;
  /** The filter as given (times as epoch ms), for the audit log and progress. */
  filter: BulkFilter;
  /** The same filter as a history query. */
  query: HistoryQuery;
  /** Count only. */
  dryRun: boolean;
}

const FILTER_KEYS = [
  "status",
  "topic",
  "since",
  "until",
  "error",
  "deadLettered",
  "idPrefix",
  "worker",
  "text",
];

/** The filter's text fields: each matches as the search's field of that name. */
const TEXT_KEYS = ["topic", "error", "idPrefix", "worker", "text"] as const;

/** A time: epoch ms or ISO 8601; `null` when malformed. */
function time(raw: unknown): number | undefined | null {
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw === "number") return Number.isFinite(raw) ? raw : null;
  if (typeof raw !== "string") return null;
  const at = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  return Number.isFinite(at) ? at : null;
}

/**
 * The checked request in `body`, or what is wrong with it.
 *
 * @example
 * ```ts
 * parseBulkRequest({ action: "retry", filter: { status: ["FAILED"] }, dryRun: true });
 * ```
 */
export function parseBulkRequest(body: unknown): ParsedBulk | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return 'the body must be a JSON object: {"action": "retry", "filter": {...}, "dryRun": true}';
  }
  const { action, filter = {}, dryRun } = body as Record<string, unknown>;
  if (!BULK_ACTIONS.includes(action as BulkActionName)) {
    return `action must be one of ${BULK_ACTIONS.join(", ")}`;
  }
  if (typeof dryRun !== "boolean") {
    return "dryRun must be true (count the matches only) or false (act on them)";
  }
  if (typeof filter !== "object" || filter === null || Array.isArray(filter)) {
    return 'filter must be an object, e.g. {"status": ["FAILED"], "topic": "job.echo"}';
  }
  const f = filter as Record<string, unknown>;
  const unknown = Object.keys(f).filter((k) => !FILTER_KEYS.includes(k));
  if (unknown.length > 0) {
    return `filter has unknown fields ${unknown.join(", ")}; known: ${
      FILTER_KEYS.join(", ")
    }`;
  }
  const out: BulkFilter = {};
  if (f.status !== undefined) {
    const list = typeof f.status === "string" ? [f.status] : f.status;
    if (!Array.isArray(list)) return "filter.status must be a list of states";
    const states: JobState[] = [];
    for (const s of list) {
      const state = typeof s === "string" ? s.trim().toUpperCase() : "";
      if (!JOB_STATES.includes(state as JobState)) {
        return `filter.status "${s}" is not one of ${JOB_STATES.join(", ")}`;
      }
      states.push(state as JobState);
    }
    if (states.length > 0) out.status = states;
  }
  for (const key of TEXT_KEYS) {
    if (f[key] === undefined || f[key] === "") continue;
    if (typeof f[key] !== "string") return `filter.${key} must be a string`;
    out[key] = f[key] as string;
  }
  const since = time(f.since), until = time(f.until);
  if (since === null || until === null) {
    return "filter.since and filter.until must be epoch milliseconds or ISO 8601 times, e.g. 2026-12-02T03:00:00Z";
  }
  if (since !== undefined) out.since = since;
  if (until !== undefined) out.until = until;
  if (f.deadLettered !== undefined) {
    if (typeof f.deadLettered !== "boolean") {
      return "filter.deadLettered must be true or false";
    }
    out.deadLettered = f.deadLettered;
  }
  return {
    action: action as BulkActionName,
    filter: out,
    query: {
      states: out.status ? new Set(out.status) : undefined,
      topic: out.topic,
      since: out.since,
      until: out.until,
      error: out.error,
      deadLettered: out.deadLettered,
      idPrefix: out.idPrefix,
      worker: out.worker,
      text: out.text,
    },
    dryRun,
  };
}

/** Jobs read per page while matching. */
const PAGE = 1000;

/**
 * The ids of every job in `history` that `query` matches, newest first.
 *
 * @example
 * ```ts
 * matchJobs(history, { states: new Set(["FAILED"]) }).length;
 * ```
 */
export function matchJobs(history: JobHistory, query: HistoryQuery): string[] {
  const ids: string[] = [];
  let cursor: [number, string] | undefined;
  // Bounded: each page moves the cursor back through a bounded history.
  for (;;) {
    const page = history.search(query, PAGE, cursor);
    for (const job of page.jobs) ids.push(job.jobId);
    if (page.nextCursor === null || page.jobs.length === 0) return ids;
    const last = page.jobs[page.jobs.length - 1];
    cursor = [last.submittedAt, last.jobId];
  }
}
