/**
 * What the scheduler offers the parts beside it (the dashboard's HTTP
 * server, tools): read its job table and worker registry, submit jobs,
 * observe changes, read its counters. They depend on this interface, not on
 * the {@linkcode Scheduler} class, so the scheduler's insides can change
 * (a durable ledger, replicas) without them noticing.
 *
 * @module
 */
import type { FinalCounts, WorkerState } from "../contract/mod.ts";
import type { JobRecord } from "./job_table.ts";
import type { WorkerView } from "./registry.ts";

export type { JobRecord, WorkerView };

/** The scheduler's totals since it started. */
export interface SchedulerCounters extends FinalCounts {
  /** Jobs submitted (bus and dashboard). */
  submitted: number;
  /** Jobs dispatched to a worker subject. */
  dispatched: number;
  /** Submissions of a job id the table already held. */
  duplicates: number;
  /** Results for jobs already final (late, or a forged second result). */
  lateResults: number;
  /**
   * Results for jobs this scheduler does not hold in flight: never
   * submitted (forged), dispatched by another core-mode replica, or
   * evicted. Not recorded: never shown as a job.
   */
  unknownResults: number;
  /**
   * Results on core NATS for jobs dispatched on the durable route (durable
   * mode): a core result cannot end a job its attempt reports must end.
   */
  misroutedResults: number;
  /** Heartbeats without a worker id, or from new workers while the registry is full. */
  badHeartbeats: number;
}

/**
 * Counters at zero, as every scheduler starts.
 *
 * @example
 * ```ts
 * const counters = zeroCounters();
 * counters.submitted++;
 * ```
 */
export function zeroCounters(): SchedulerCounters {
  return {
    submitted: 0,
    dispatched: 0,
    completed: 0,
    failed: 0,
    denied: 0,
    timeout: 0,
    cancelled: 0,
    duplicates: 0,
    lateResults: 0,
    unknownResults: 0,
    misroutedResults: 0,
    badHeartbeats: 0,
  };
}

/** A job to submit, in plain terms (no protobuf). */
export interface JobSubmission {
  /** Unique per job; a second submission of an id still held is a duplicate. */
  jobId: string;
  /** The subject family the job is for, e.g. `job.echo`. */
  topic: string;
  /** The wire priority number (see `JOB_PRIORITIES`). Default 0, unspecified. */
  priority?: number;
  /** The job's input. Default empty. */
  payload?: Uint8Array;
  /** Who submits it, shown in the job's history. */
  submitter: string;
  /** Epoch ms the submitter created it. Default: now. */
  createdAt?: number;
}

/** What became of one submission. */
export type SubmitOutcome =
  | {
    /** It was checked and sent to a worker subject. */
    status: "dispatched";
    /** The job's id. */
    jobId: string;
    /** The trace id it travels with. */
    traceId: string;
    /** The subject it was dispatched to. */
    subject: string;
  }
  | {
    /** It was refused: invalid (failed) or against the safety policy (denied). */
    status: "failed" | "denied";
    /** The job's id. */
    jobId: string;
    /** The trace id of its refusal. */
    traceId: string;
    /** Why, in words a submitter can act on. */
    reason: string;
  }
  | {
    /** Its id is held already; it is not run twice. */
    status: "duplicate";
    /** The job's id. */
    jobId: string;
    /** The trace id of this submission. */
    traceId: string;
    /** The state of the job that holds the id. */
    state: string;
  };

/** What became of a request to retry a job by hand. */
export type RetryOutcome =
  | {
    /** Dispatched again. */
    status: "retried";
    /** The job's id. */
    jobId: string;
    /** Where it was dispatched. */
    subject: string;
    /** The number of its first new attempt. */
    firstAttempt: number;
    /** How many attempts it may now take in all. */
    maxAttempts: number;
  }
  | {
    /** The ledger holds no such job (never submitted, or expired). */
    status: "unknown";
    /** The job's id. */
    jobId: string;
    /** Why, in words a user can act on. */
    reason: string;
  }
  | {
    /** It is not in a state a retry may start from. */
    status: "conflict";
    /** The job's id. */
    jobId: string;
    /** Why, in words a user can act on. */
    reason: string;
  };

/**
 * What became of an action on one job or worker (cancel, drain): done, no
 * such job or worker, or not possible from the state it is in. The same
 * three outcomes as {@linkcode RetryOutcome}, without its dispatch details.
 */
export type ActionResult =
  | {
    /** Done: the job is CANCELLED, or the worker was told. */
    status: "ok";
    /** The job's or worker's id. */
    id: string;
    /** What was done, in a few words. */
    detail: string;
  }
  | {
    /** No such job (never submitted, or forgotten) or worker. */
    status: "unknown";
    /** The job's or worker's id. */
    id: string;
    /** Why, in words a user can act on. */
    reason: string;
  }
  | {
    /** Not from the state it is in (a final job cannot be cancelled). */
    status: "conflict";
    /** The job's or worker's id. */
    id: string;
    /** Why, in words a user can act on. */
    reason: string;
  };

/** The backlog of one worker pool's durable work queues. */
export interface PoolBacklog {
  /** The pool: the last token of its topics (`echo` for `job.echo`). */
  pool: string;
  /** Jobs waiting for a worker or held by one, not yet acknowledged. */
  pending: number;
  /** Age of the oldest of them, in seconds; 0 when none. */
  oldestPendingSeconds: number;
  /** Of them, those delivered more than once (JetStream's `num_redelivered`). */
  redelivered: number;
}

/** What durable mode adds to `/metrics`. */
export interface DurableStats {
  /** Each pool with a durable work queue, as last sampled (every few seconds). */
  pools: readonly PoolBacklog[];
  /** Attempts after a job's first, over the ledger's history. */
  retries: number;
  /** Jobs that failed every attempt, over the ledger's history. */
  deadLettered: number;
  /** Attempt reports fenced as recorded already, on this replica. */
  duplicateDeliveries: number;
  /** Epoch ms of the backlog sample; `undefined` before the first. */
  sampledAt?: number;
}

/** What a scheduler in durable mode offers besides {@linkcode SchedulerService}. */
export interface DurableService {
  /** Backlog and durable counters; cheap (the backlog is sampled in the background). */
  stats(): DurableStats;
  /**
   * Starts a job that ended FAILED (dead-lettered or not) or TIMEOUT again
   * as new attempts of the same id, its history kept. Rejects when the
   * ledger or the stream cannot be reached.
   */
  retry(jobId: string, by: string): Promise<RetryOutcome>;
  /**
   * The job as the ledger holds it now, or `undefined` when it holds no
   * such job; for jobs the job table no longer holds. Rejects when the
   * ledger cannot be reached.
   */
  lookup?(jobId: string): Promise<JobRecord | undefined>;
  /**
   * Takes a dead-lettered job off the dead-letter list, in the ledger, so
   * it stays off after a restart. Rejects when the ledger cannot be reached.
   */
  discard?(jobId: string, by: string): Promise<DiscardOutcome>;
}

/** What became of a request to take a job off the dead-letter list. */
export type DiscardOutcome =
  | {
    /** Taken off the list. */
    status: "discarded";
    /** The job's id. */
    jobId: string;
  }
  | {
    /** No such job in the ledger (unknown), or not on the list (conflict). */
    status: "unknown" | "conflict";
    /** The job's id. */
    jobId: string;
    /** Why, in words a user can act on. */
    reason: string;
  };

/** Told of every change. Calls run in the scheduler's hot path: keep them cheap. */
export interface SchedulerObserver {
  /**
   * A job was dispatched, refused or finished. In durable mode the record
   * may be one the job table does not hold (it was full of jobs in flight).
   */
  jobChanged?(record: JobRecord): void;
  /** A worker's heartbeat arrived or its state changed. */
  workerChanged?(worker: WorkerView): void;
  /** Workers offline for long enough were forgotten. */
  workersForgotten?(workerIds: string[]): void;
}

/** The scheduler's job table, read-only. */
export interface JobsView {
  /** Jobs held now. */
  readonly size: number;
  /** Jobs not yet final. */
  readonly inflight: number;
  /** One job, or `undefined` when the table does not hold it. */
  get(jobId: string): JobRecord | undefined;
  /** Jobs, newest first, that `keep` accepts, at most `limit` of them. */
  recent(limit: number, keep?: (record: JobRecord) => boolean): JobRecord[];
}

/** The worker registry, read-only. */
export interface WorkersView {
  /** Every known worker, by pool then id. */
  list(): WorkerView[];
  /** One worker, or `undefined`. */
  get(workerId: string): WorkerView | undefined;
  /** How many workers are in each state. */
  counts(): Record<WorkerState, number>;
}

/**
 * A running scheduler, as the parts beside it see it.
 *
 * @example
 * ```ts
 * function inflight(service: SchedulerService): number {
 *   return service.jobs.inflight;
 * }
 * ```
 */
export interface SchedulerService {
  /** Totals since start; a live object, so copy it to keep a moment's values. */
  readonly counters: Readonly<SchedulerCounters>;
  /** The job table. */
  readonly jobs: JobsView;
  /** The worker registry. */
  readonly workers: WorkersView;
  /** Submits one job through validation, safety and routing, like a job from the bus. */
  submit(job: JobSubmission): SubmitOutcome;
  /** Registers an observer; returns a function that removes it. */
  observe(observer: SchedulerObserver): () => void;
  /**
   * Cancels a job that is not final: it ends CANCELLED (the one result
   * published for it), a worker holding it aborts its handler's signal,
   * and one that has not started it never does. A final job is a
   * `conflict`. `by` names who asked, kept as the job's error
   * (`cancelled by <by>`; default `dashboard`). Rejects only when the
   * ledger (durable mode) cannot be reached.
   */
  cancel(jobId: string, by?: string): Promise<ActionResult>;
  /**
   * Asks a worker to drain (finish what it holds, take nothing new) or,
   * with `resume`, to take jobs again. Resolves once the request is sent.
   */
  drain(
    workerId: string,
    options?: { resume?: boolean },
  ): Promise<ActionResult>;
  /** Durable mode's backlog, counters and retry by hand; absent in core mode. */
  readonly durable?: DurableService;
}
