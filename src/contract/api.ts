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

/** One job as a row of the live feed: small, because thousands stream by. */
export interface JobSummary {
  jobId: string;
  topic: string;
  state: JobState;
  /** A {@linkcode JobPriorityName}, or the wire number of one this version does not know. */
  priority: JobPriorityName | string;
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
    priority: JobPriorityName | string;
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

/** One worker as the registry last heard of it. Times are epoch ms. */
export interface WorkerSummary {
  workerId: string;
  pool: string;
  region: string;
  type: string;
  capabilities: string[];
  activeJobs: number;
  maxParallelJobs: number;
  cpuLoad: number;
  gpuUtilization: number;
  state: WorkerState;
  firstSeen: number;
  lastSeen: number;
  /** The worker said it was shutting down. */
  left: boolean;
}

/** The scheduler's totals since it started. */
export interface Counters extends FinalCounts {
  submitted: number;
  dispatched: number;
  /** Submissions of a job id the table already held. */
  duplicates: number;
  /** Results for jobs already final (late, or the scheduler's own echoed back). */
  lateResults: number;
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
  type: "snapshot";
  /** The server's clock when it was made, to show "3 s ago" right on a skewed client. */
  serverTime: number;
  workers: WorkerSummary[];
  /** The most recent jobs, newest first. */
  jobs: JobSummary[];
  counters: Counters;
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
  workers: WorkerSummary[];
  /** Workers the registry forgot. */
  forgotten: string[];
  counters: Counters;
  throughput: Throughput;
}

/** Any event on `GET /api/events`. */
export type DashboardEvent = SnapshotEvent | DeltaEvent;

/** `GET /api/workers`. */
export interface WorkersResponse {
  serverTime: number;
  workers: WorkerSummary[];
  counts: Record<WorkerState, number>;
}

/** `GET /api/jobs`. */
export interface JobsResponse {
  serverTime: number;
  /** Newest first. */
  jobs: JobSummary[];
  /** Jobs the scheduler's table holds now. */
  held: number;
}

/** `GET /healthz`: 200 when the bus is connected, 503 otherwise. */
export interface HealthResponse {
  status: "ok" | "degraded";
  bus: { connected: boolean };
  uptimeSeconds: number;
  workers: Record<WorkerState, number>;
  jobs: { held: number; inflight: number };
}

/** The body of `POST /api/jobs`. */
export interface SubmitRequest {
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
  outcomes: {
    status: SubmitStatus;
    jobId: string;
    traceId: string;
    /** Why it was refused, for failed and denied. */
    reason?: string;
  }[];
  dispatched: number;
  refused: number;
}

/** Every error answer of the API. */
export interface ErrorResponse {
  error: string;
}
