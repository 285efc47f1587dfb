/**
 * The JSON shapes the dashboard API and event stream send, and the functions
 * that make them from the scheduler's records. The UI imports these types,
 * so the server and the browser agree on one definition.
 *
 * @module
 */
import type { SchedulerCounters } from "../scheduler/engine.ts";
import type { JobRecord, JobState } from "../scheduler/job_table.ts";
import type { WorkerView } from "../scheduler/registry.ts";

export type { JobState, SchedulerCounters, WorkerView };

/** One job as a row of the live feed: small, because thousands stream by. */
export interface JobSummary {
  jobId: string;
  topic: string;
  state: JobState;
  priority: string;
  workerId: string;
  /** What the worker reported; 0 until the job ends. */
  executionMs: number;
  /** From the submitter's `created_at` (or receipt) to the result; `null` until it ends. */
  roundTripMs: number | null;
  /** Epoch ms the scheduler received it. */
  submittedAt: number;
  finishedAt: number | null;
  /** Why it failed, was denied or timed out. */
  error: string;
}

/** One step of a job's life, for its detail view. */
export interface JobStep {
  state: JobState;
  /** Epoch ms. */
  at: number;
  /** What else is known about the step (subject, worker, reason). */
  note: string;
}

/** Everything known of one job: `GET /api/jobs/:id`. */
export interface JobDetail {
  jobId: string;
  traceId: string;
  state: JobState;
  request: {
    topic: string;
    priority: string;
    submitter: string;
    contextPtr: string;
    adapterId: string;
    envVars: Record<string, string>;
    payloadBytes: number;
    /** The payload's first bytes as text; display it as text, never as HTML. */
    payloadPreview: string;
  };
  result: {
    workerId: string;
    executionMs: number;
    resultPtr: string;
    outputBytes: number;
    outputPreview: string;
    error: string;
  } | null;
  history: JobStep[];
  timings: {
    /** Submitter's `created_at`, when it sent one. */
    createdAt: number | null;
    submittedAt: number;
    dispatchedAt: number | null;
    finishedAt: number | null;
    /** Receipt to dispatch. */
    dispatchMs: number | null;
    executionMs: number | null;
    /** `created_at` (or receipt) to result. */
    roundTripMs: number | null;
  };
}

/** Jobs finished per second over the last minute, oldest first. */
export interface Throughput {
  /** Finished jobs per second, the mean of the last 5 whole seconds. */
  perSecond: number;
  /** 60 one-second buckets, oldest first. */
  series: number[];
}

/** The first event of a stream: the whole picture. */
export interface SnapshotEvent {
  type: "snapshot";
  /** The server's clock when it was made, to show "3 s ago" right on a skewed client. */
  serverTime: number;
  workers: WorkerView[];
  /** The most recent jobs, newest first. */
  jobs: JobSummary[];
  counters: SchedulerCounters;
  throughput: Throughput;
}

/** What changed since the previous event. */
export interface DeltaEvent {
  type: "delta";
  serverTime: number;
  /** Changed jobs, in the order they first changed. */
  jobs: JobSummary[];
  /** Changed jobs left out to keep the event small (the feed shows a window anyway). */
  jobsOmitted: number;
  workers: WorkerView[];
  /** Workers the registry forgot. */
  forgotten: string[];
  counters: SchedulerCounters;
  throughput: Throughput;
}

/** Any event on `GET /api/events`. */
export type DashboardEvent = SnapshotEvent | DeltaEvent;

/** The answer to `POST /api/jobs`. */
export interface SubmitResponse {
  outcomes: {
    status: "dispatched" | "failed" | "denied" | "duplicate";
    jobId: string;
    traceId: string;
    /** Why it was refused, for failed and denied. */
    reason?: string;
  }[];
  dispatched: number;
  refused: number;
}

function roundTrip(record: JobRecord): number | null {
  if (record.finishedAt === undefined) return null;
  return Math.max(
    0,
    record.finishedAt - (record.createdAt ?? record.submittedAt),
  );
}

/**
 * The feed row of `record`.
 *
 * @example
 * ```ts
 * jobSummary(scheduler.jobs.get("job-1")!).state; // "COMPLETED"
 * ```
 */
export function jobSummary(record: JobRecord): JobSummary {
  return {
    jobId: record.jobId,
    topic: record.topic,
    state: record.state,
    priority: record.priority,
    workerId: record.workerId,
    executionMs: record.executionMs,
    roundTripMs: roundTrip(record),
    submittedAt: record.submittedAt,
    finishedAt: record.finishedAt ?? null,
    error: record.error,
  };
}

/**
 * The detail view of `record`: request, result, state history and timings.
 * The history is rebuilt from the record's timestamps, which the job table
 * keeps for exactly these steps.
 *
 * @example
 * ```ts
 * jobDetail(record).history.map((s) => s.state); // ["PENDING", "DISPATCHED", "COMPLETED"]
 * ```
 */
export function jobDetail(record: JobRecord): JobDetail {
  const finished = record.finishedAt !== undefined;
  const history: JobStep[] = [];
  if (record.topic !== "" || record.submitter !== "") {
    history.push({
      state: "PENDING",
      at: record.submittedAt,
      note: record.submitter ? `received from ${record.submitter}` : "received",
    });
  }
  if (record.dispatchedAt !== undefined) {
    history.push({
      state: "DISPATCHED",
      at: record.dispatchedAt,
      note: `to ${record.subject}`,
    });
  }
  if (finished) {
    history.push({
      state: record.state,
      at: record.finishedAt!,
      note: record.error ||
        (record.workerId ? `by ${record.workerId}` : ""),
    });
  }
  return {
    jobId: record.jobId,
    traceId: record.traceId,
    state: record.state,
    request: {
      topic: record.topic,
      priority: record.priority,
      submitter: record.submitter,
      contextPtr: record.contextPtr,
      adapterId: record.adapterId,
      envVars: record.envVars,
      payloadBytes: record.payloadBytes,
      payloadPreview: record.payloadPreview,
    },
    result: finished
      ? {
        workerId: record.workerId,
        executionMs: record.executionMs,
        resultPtr: record.resultPtr,
        outputBytes: record.outputBytes,
        outputPreview: record.outputPreview,
        error: record.error,
      }
      : null,
    history,
    timings: {
      createdAt: record.createdAt ?? null,
      submittedAt: record.submittedAt,
      dispatchedAt: record.dispatchedAt ?? null,
      finishedAt: record.finishedAt ?? null,
      dispatchMs: record.dispatchedAt === undefined
        ? null
        : record.dispatchedAt - record.submittedAt,
      executionMs: finished ? record.executionMs : null,
      roundTripMs: roundTrip(record),
    },
  };
}
