/**
 * The JSON the dashboard's HTTP API and event stream send: one declaration
 * shared by the server, which maps its internal records to these shapes,
 * and the browser UI, which reads them. A change here is a change of the
 * API; a change of the scheduler's internals is not.
 *
 * @module
 */
import type {
  FinalCounts,
  JobPriorityName,
  JobState,
  WorkerState,
} from "./vocabulary.ts";
import type { QueuesView } from "./operator_api.ts";
import type { BulkProgress } from "./bulk_api.ts";

/** One job as a row of the live feed: small, because thousands stream by. */
export interface JobSummary {
  /** The submitter's id for the job, unique among the jobs held. */
  jobId: string;
  /** The subject family it was submitted for, e.g. `job.echo`. */
  topic: string;
  /** Where it is in its life now. */
  state: JobState;
  /** A {@linkcode JobPriorityName}, or the wire number of one this version does not know. */
  priority: JobPriorityName | string;
  /** The worker that ran it; "" until a worker reports. */
  workerId: string;
  /** What the worker reported; 0 until the job ends. */
  executionMs: number;
  /** From the submitter's `created_at` (or receipt) to the result; `null` until it ends. */
  roundTripMs: number | null;
  /** Epoch ms the scheduler received it. */
  submittedAt: number;
  /** Epoch ms it reached a final state; `null` until then. */
  finishedAt: number | null;
  /** Why it failed, was denied or timed out. */
  error: string;
  /** Present (true) only when it failed every attempt (durable mode). */
  deadLettered?: true;
  /** Present (true) only when an operator took it off the dead-letter list. */
  discarded?: true;
}

/** One step of a job's life, for its detail view. */
export interface JobStep {
  /** The state the job entered at this step. */
  state: JobState;
  /** Epoch ms. */
  at: number;
  /** What else is known about the step (subject, worker, reason). */
  note: string;
}

/** One attempt of a job at a worker (durable mode). */
export interface JobAttempt {
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** The worker that made it. */
  workerId: string;
  /** How it ended. */
  state: JobState;
  /** Why it failed; "" when it completed. */
  error: string;
  /** Run time the worker measured, in ms. */
  executionMs: number;
  /** Epoch ms the scheduler recorded it. */
  at: number;
}

/** One retry by hand of a job (durable mode), and how the job had ended before it. */
export interface JobRetry {
  /** Epoch ms it was dispatched again. */
  at: number;
  /** Who asked: `dashboard`, or the sender id of a `sys.job.retry` request. */
  by: string;
  /** The final state it had. */
  state: JobState;
  /** Its error then. */
  error: string;
  /** It was dead-lettered then. */
  deadLettered: boolean;
}

/** Everything known of one job: `GET /api/jobs/:id`. */
export interface JobDetail {
  /** The submitter's id for the job. */
  jobId: string;
  /** The trace its packets carry (32 hex digits). */
  traceId: string;
  /** Where it is in its life now. */
  state: JobState;
  /** The job as submitted. */
  request: {
    /** The subject family it was submitted for. */
    topic: string;
    /** A {@linkcode JobPriorityName}, or the wire number of one this version does not know. */
    priority: JobPriorityName | string;
    /** The sender id of the packet that submitted it. */
    submitter: string;
    /** Where the job's context is kept, as the submitter named it; "" for none. */
    contextPtr: string;
    /** The adapter the submitter asked for; "" for none. */
    adapterId: string;
    /** Environment variables for the job. */
    envVars: Record<string, string>;
    /** Size of the inline payload, in bytes. */
    payloadBytes: number;
    /** The payload's first bytes as text; display it as text, never as HTML. */
    payloadPreview: string;
  };
  /** What the worker reported; `null` until the job ends. */
  result: {
    /** The worker that ran it; "" when the scheduler ended it (denied, timed out). */
    workerId: string;
    /** Run time the worker measured, in ms. */
    executionMs: number;
    /** Where the worker put the result, if elsewhere; "" for none. */
    resultPtr: string;
    /** Size of the inline output, in bytes. */
    outputBytes: number;
    /** The output's first bytes as text; display it as text, never as HTML. */
    outputPreview: string;
    /** Why it failed, was denied or timed out; "" when it completed. */
    error: string;
  } | null;
  /** Its steps so far, oldest first. */
  history: JobStep[];
  /** Its attempts at workers, oldest first; empty in core mode, which keeps none. */
  attempts: JobAttempt[];
  /** How many attempts it may take; 0 in core mode. */
  maxAttempts: number;
  /** It failed every attempt it was allowed: on the dead-letter list. */
  deadLettered: boolean;
  /** Each retry by hand, oldest first; empty when none (and in core mode). */
  retriedByHand: JobRetry[];
  /** `POST /api/jobs/:id/retry` may start it again now (durable mode only). */
  retryable: boolean;
  /** When each step happened (epoch ms) and how long each took (ms); `null` until known. */
  timings: {
    /** Submitter's `created_at`, when it sent one. */
    createdAt: number | null;
    /** The scheduler received it. */
    submittedAt: number;
    /** It was sent to a worker's subject. */
    dispatchedAt: number | null;
    /** It reached a final state. */
    finishedAt: number | null;
    /** Receipt to dispatch. */
    dispatchMs: number | null;
    /** What the worker reported. */
    executionMs: number | null;
    /** `created_at` (or receipt) to result. */
    roundTripMs: number | null;
  };
}

/** One worker as the registry last heard of it. Times are epoch ms. */
export interface WorkerSummary {
  /** Unique per worker process. */
  workerId: string;
  /** The pool (job family) it serves, e.g. `echo`. */
  pool: string;
  /** Where it runs, as it says. */
  region: string;
  /** Its kind, as it says. */
  type: string;
  /** What it can do, as it says. */
  capabilities: string[];
  /** Jobs it is running now. */
  activeJobs: number;
  /** Jobs it runs at once at most. */
  maxParallelJobs: number;
  /** Its process's CPU load, 0–1 per core. */
  cpuLoad: number;
  /** Its GPU utilisation, 0–1; 0 without a GPU. */
  gpuUtilization: number;
  /** Its liveness, judged by how long it has been silent. */
  state: WorkerState;
  /** Its first heartbeat. */
  firstSeen: number;
  /** Its latest heartbeat. */
  lastSeen: number;
  /** The worker said it was shutting down. */
  left: boolean;
}

/** The scheduler's totals since it started. */
export interface Counters extends FinalCounts {
  /** Submissions received, valid or not. */
  submitted: number;
  /** Jobs sent on to a worker's subject. */
  dispatched: number;
  /** Submissions of a job id the table already held. */
  duplicates: number;
  /** Results for jobs already final (late, or a forged second result). */
  lateResults: number;
  /** Results for jobs this scheduler does not hold in flight (forged, another core replica's, evicted); not recorded. */
  unknownResults: number;
  /** Core results for jobs dispatched on the durable route; not recorded. */
  misroutedResults: number;
  /** Heartbeats without a worker id, or from new workers while the registry is full. */
  badHeartbeats: number;
}

/** Jobs finished per second over the last minute. */
export interface Throughput {
  /** Finished jobs per second, the mean of the last 5 whole seconds. */
  perSecond: number;
  /** 60 one-second buckets, oldest first. */
  series: number[];
}

/** The first event of a stream: the whole picture. */
export interface SnapshotEvent {
  /** Tells it from a {@linkcode DeltaEvent}. */
  type: "snapshot";
  /** The server's clock when it was made, to show "3 s ago" right on a skewed client. */
  serverTime: number;
  /** Every worker the registry knows. */
  workers: WorkerSummary[];
  /** The most recent jobs, newest first. */
  jobs: JobSummary[];
  /** The totals now. */
  counters: Counters;
  /** The finish rate now. */
  throughput: Throughput;
  /** The queues at a glance, with their series. */
  queues: QueuesView;
  /** The bulk actions running now (ended ones: `GET /api/bulk`). */
  bulk: BulkProgress[];
}

/** What changed since the previous event. */
export interface DeltaEvent {
  /** Tells it from a {@linkcode SnapshotEvent}. */
  type: "delta";
  /** The server's clock when it was made (epoch ms). */
  serverTime: number;
  /** Changed jobs, in the order they first changed. */
  jobs: JobSummary[];
  /** Changed jobs left out to keep the event small (the feed shows a window anyway). */
  jobsOmitted: number;
  /** Workers that changed (a heartbeat or a state change). */
  workers: WorkerSummary[];
  /** Ids of the workers the registry forgot. */
  forgotten: string[];
  /** The totals now. */
  counters: Counters;
  /** The finish rate now. */
  throughput: Throughput;
  /** The queues, when a figure changed (about once a second while jobs run); absent: unchanged. */
  queues?: QueuesView;
}

/**
 * The bulk actions whose progress changed since the previous event (a step
 * done, started, finished or stopped), sent beside a delta, on its timer.
 */
export interface BulkEvent {
  /** Tells it from a {@linkcode DeltaEvent}. */
  type: "bulk";
  /** The server's clock when it was made (epoch ms). */
  serverTime: number;
  /** Each changed action's progress now, as `GET /api/bulk/:id` answers. */
  actions: BulkProgress[];
}

/** Any event on `GET /api/events`. */
export type DashboardEvent = SnapshotEvent | DeltaEvent | BulkEvent;

/** `GET /api/workers`. */
export interface WorkersResponse {
  /** The server's clock when it answered (epoch ms). */
  serverTime: number;
  /** Every worker the registry knows. */
  workers: WorkerSummary[];
  /** How many workers are in each state. */
  counts: Record<WorkerState, number>;
}

/** `GET /api/jobs`. */
export interface JobsResponse {
  /** The server's clock when it answered (epoch ms). */
  serverTime: number;
  /** Newest first. */
  jobs: JobSummary[];
  /** Jobs the scheduler's table holds now. */
  held: number;
  /** Jobs the history holds now: what a search looks through. */
  history: number;
  /** Pass as `cursor` for the next page; `null` on the last page. */
  nextCursor: string | null;
}

/** `GET /healthz`: 200 when the bus is connected, 503 otherwise. */
export interface HealthResponse {
  /** `"degraded"` while the bus is disconnected. */
  status: "ok" | "degraded";
  /** Whether the scheduler is connected to NATS now. */
  bus: { connected: boolean };
  /** Seconds since the server started. */
  uptimeSeconds: number;
  /** How many workers are in each state. */
  workers: Record<WorkerState, number>;
  /** Jobs the table holds, and how many of them are not yet final. */
  jobs: { held: number; inflight: number };
}

/** The body of `POST /api/jobs`. */
export interface SubmitRequest {
  /** The subject family to submit to, e.g. `job.echo`. */
  topic: string;
  /** Text, sent as its UTF-8 bytes. Default "". */
  payload?: string;
  /** One of `PRIORITY_CHOICES` (any case), or "" / absent for none. */
  priority?: string;
  /** How many jobs, 1 to 1,000. Default 1. */
  count?: number;
}

/** What became of one submission. */
export type SubmitStatus = "dispatched" | "failed" | "denied" | "duplicate";

/** The answer to `POST /api/jobs`. */
export interface SubmitResponse {
  /** One per job submitted, in order. */
  outcomes: {
    /** What became of it. */
    status: SubmitStatus;
    /** The id the server gave it. */
    jobId: string;
    /** The trace its packets carry. */
    traceId: string;
    /** Why it was refused, for failed and denied. */
    reason?: string;
  }[];
  /** How many were dispatched. */
  dispatched: number;
  /** How many were not (failed, denied or duplicate). */
  refused: number;
}

/**
 * The query of `GET /api/jobs`. Every filter is optional; those given must
 * all match.
 */
export interface JobsQuery {
  /** Comma-separated {@linkcode JobState}s, any case. */
  status?: string;
  /** Jobs of this topic only. */
  topic?: string;
  /** Jobs whose id contains this text, any case. */
  q?: string;
  /** Jobs whose id starts with this (exact case). */
  idPrefix?: string;
  /** Jobs a worker with this id made an attempt at or ended. */
  worker?: string;
  /** Submitted at or after: epoch ms or an ISO 8601 time. */
  since?: string;
  /** Submitted before: epoch ms or an ISO 8601 time. */
  until?: string;
  /** Payload, output or error contains this, any case (their first 256 characters). */
  text?: string;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
  /** `true`: dead-lettered jobs only (failed every attempt; durable mode). */
  deadLettered?: "true" | "false";
  /** Most jobs returned, 1 to 1,000. Default 100. */
  limit?: string;
}

/** Every error answer of the API. */
export interface ErrorResponse {
  /** What was wrong and what to do about it. */
  error: string;
}
