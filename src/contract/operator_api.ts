/**
 * The JSON of the operator's views of the dashboard: queues at a glance,
 * search through history, worker detail, the audit log, and the answers to
 * an action on one job or worker (retry, cancel, drain). Declared apart from `api.ts` only
 * to keep each file short; `mod.ts` exports both.
 *
 * @module
 */
import type { JobSummary, WorkerSummary } from "./api.ts";
import type { JobState } from "./vocabulary.ts";

/** A quantile pair of a distribution of durations, in ms. */
export interface Quantiles {
  /** The median. */
  p50: number;
  /** The 95th percentile. */
  p95: number;
}

/**
 * One topic's queue at a glance (`GET /api/queues`, and the `queues` of
 * the event stream). The last-minute figures come from the scheduler's
 * rolling 10-second buckets; quantiles are read off a log-scale histogram,
 * so they are right to within a quarter of their value.
 */
export interface QueuePanel {
  /** The topic, e.g. `job.echo`. */
  topic: string;
  /** The worker pool that serves it: the topic's last token (`echo`). */
  pool: string;
  /** Jobs dispatched and not yet started by a worker (in flight minus running). */
  pending: number;
  /** Jobs its pool's online workers say they are running (their heartbeats). */
  running: number;
  /** Jobs that ended in the last minute. */
  doneLastMinute: number;
  /** Of them, those that FAILED or timed out. */
  failedLastMinute: number;
  /** `failedLastMinute / doneLastMinute`; `null` when nothing ended. */
  failureRate: number | null;
  /** Age of the oldest job not yet started, in ms; `null` when none waits. */
  oldestPendingMs: number | null;
  /** Submission (or retry) to the start of its run, over the last minute; `null` without a sample. */
  waitMs: Quantiles | null;
  /** Run time the workers measured, over the last minute; `null` without a sample. */
  runMs: Quantiles | null;
  /** Workers of its pool online now. */
  workersOnline: number;
}

/** One topic's last 15 minutes, one entry per bucket, oldest first. */
export interface QueueSeries {
  /** Jobs that ended in the bucket. */
  done: number[];
  /** Of them, FAILED or TIMEOUT. */
  failed: number[];
  /** Median wait in the bucket, ms; `null` without a sample. */
  waitP50: (number | null)[];
  /** 95th percentile wait in the bucket, ms; `null` without a sample. */
  waitP95: (number | null)[];
}

/** The queues, as `GET /api/queues` answers and the event stream carries them. */
export interface QueuesView {
  /** The length of one bucket of the series, in ms (10,000). */
  bucketMs: number;
  /** Epoch ms the newest bucket of the series starts. */
  newestBucketAt: number;
  /** One panel per topic seen in the last 15 minutes or with jobs in flight, by topic. */
  panels: QueuePanel[];
  /** Each panel's series, by topic. */
  series: Record<string, QueueSeries>;
}

/** One failure of a job at a worker. */
export interface WorkerError {
  /** The job's id. */
  jobId: string;
  /** How the attempt ended. */
  state: JobState;
  /** Why. */
  error: string;
  /** Epoch ms it was recorded. */
  at: number;
}

/** `GET /api/workers/:id`: a worker and what it ran. */
export interface WorkerDetail {
  /** The server's clock when it answered (epoch ms). */
  serverTime: number;
  /** The worker's id. */
  workerId: string;
  /** As the registry knows it now; `null` once it is forgotten (its history stays). */
  worker: WorkerSummary | null;
  /** Jobs it made an attempt at or ended, newest first (a page: see `nextCursor`). */
  jobs: JobSummary[];
  /** Pass as `cursor` for the next page of jobs; `null` on the last. */
  nextCursor: string | null;
  /** Its newest failures (up to 50), newest first. */
  errors: WorkerError[];
}

/** Where an audited request came from. */
export interface AuditSource {
  /** The peer's address (`ip:port`); "" when the server did not say. */
  address: string;
  /** The `Origin` header a browser sent; "" for none (curl, scripts). */
  origin: string;
  /** The `User-Agent`, cut to 120 characters. */
  userAgent: string;
}

/** One action taken through the API: `GET /api/audit`. */
export interface AuditEntry {
  /** Epoch ms the answer was sent. */
  at: number;
  /** What was asked: `submit`, `retry`, or `METHOD path` for a route without a name. */
  action: string;
  /** The route's path, e.g. `/api/jobs/job-1/retry`. */
  path: string;
  /** The job or topic acted on; "" when none. */
  target: string;
  /** The filter a bulk action matched jobs by; `null` for an action on one job or a submission. */
  filter: Record<string, unknown> | null;
  /** How many jobs it started, retried or changed. */
  count: number;
  /** The HTTP status of the answer. */
  status: number;
  /** What came of it, in a few words (a refusal's reason, cut to 200 characters). */
  outcome: string;
  /** Who asked. */
  from: AuditSource;
}

/** `GET /api/audit`: the newest entries first. */
export interface AuditResponse {
  /** The server's clock when it answered (epoch ms). */
  serverTime: number;
  /** Newest first. */
  entries: AuditEntry[];
  /** Most entries kept; older ones are dropped (each is also a log line). */
  capacity: number;
}

/**
 * The answer (200) to an action on one job or worker: `POST
 * /api/jobs/:id/cancel`, `POST /api/workers/:id/drain`. A refusal is an
 * `ErrorResponse`: 404 (no such job or worker), 409 (not from its state:
 * a final job, a worker draining already), 503 (the ledger unreachable).
 */
export interface ActionResponse {
  /** Done. */
  status: "ok";
  /** The job's or worker's id. */
  id: string;
  /** What was done, in a few words. */
  detail: string;
}

/** The body of `POST /api/workers/:id/drain`: `{}` drains, `{"resume": true}` resumes. */
export interface DrainRequest {
  /** Take jobs again after a drain. Default false. */
  resume?: boolean;
}

/**
 * The answer to `POST /api/jobs/:id/retry` (200) and to a `sys.job.retry`
 * request that started the job again.
 */
export interface RetryResponse {
  /** Started again. */
  status: "retried";
  /** The job's id. */
  jobId: string;
  /** The subject it was dispatched to. */
  subject: string;
  /** The number of its first new attempt (after every attempt it was allowed before). */
  firstAttempt: number;
  /** How many attempts it may take in all now. */
  maxAttempts: number;
}

/**
 * Why a retry did not start: `unknown` (no such job: HTTP 404), `conflict`
 * (not in a final failed state, or core mode: 409), `error` (the ledger
 * or the stream could not be reached: 503).
 */
export type RetryRefusal = "unknown" | "conflict" | "error";

/**
 * The reply to a `sys.job.retry` request (JSON `{"jobId": "…"}`): a
 * {@linkcode RetryResponse}, or why not, in the words
 * `POST /api/jobs/:id/retry` answers with.
 */
export type RetryReply = RetryResponse | {
  /** Why not. */
  status: RetryRefusal;
  /** The job's id. */
  jobId: string;
  /** What was wrong and what to do about it. */
  error: string;
};
