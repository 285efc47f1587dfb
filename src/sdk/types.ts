/**
 * The SDK's public types: plain TypeScript, no protobuf.
 *
 * @module
 */
import type { Logger, LogLevel } from "../log.ts";
import type { Durability } from "../bus/durable/mode.ts";
import type { NoOutcomeError } from "./submitter.ts";

export type { Durability, Logger, LogLevel };

/** A job's final status, in the contract's vocabulary (src/contract). */
export type JobStatus =
  | "COMPLETED"
  | "FAILED"
  | "DENIED"
  | "TIMEOUT"
  | "CANCELLED";

/** A job's priority, as a submitter chooses it. */
export type JobPriority = "batch" | "interactive" | "critical";

/** `CORTEX_DURABILITY`: keep jobs in JetStream, core NATS only, or decide. */
export type DurabilitySetting = "auto" | "jetstream" | "none";

/** Options of `connect`. */
export interface ConnectOptions {
  /** NATS URL(s), comma-separated or a list. Default `NATS_URL`, else `nats://127.0.0.1:4222`. */
  servers?: string | string[];
  /** The connection name the server shows. Default `cortex-sdk-<random>`. */
  name?: string;
  /**
   * Durable (`jetstream`) or core (`none`) mode; `auto`, as the processes
   * do, is durable when the server offers JetStream, core otherwise.
   * Default `CORTEX_DURABILITY`, else `auto`.
   */
  durability?: DurabilitySetting;
  /**
   * Credentials, named as the bus reads them from the environment (file
   * paths, never their contents). Default: `NATS_CREDS`, `NATS_NKEY`,
   * `NATS_USER` + `NATS_PASSWORD`, `NATS_CA`, `NATS_CERT` + `NATS_KEY`.
   */
  credentials?: Credentials;
  /** Where the SDK logs (connection changes, workers). Default: LogTape's `cortex.sdk` category. */
  log?: Logger;
}

/** NATS credentials, as docs/security.md describes the variables. */
export interface Credentials {
  /** A `.creds` file (`NATS_CREDS`). */
  credsFile?: string;
  /** A file holding an nkey user seed (`NATS_NKEY`). */
  nkeyFile?: string;
  /** A user name (`NATS_USER`), with {@linkcode Credentials.password}. */
  user?: string;
  /** The user's password (`NATS_PASSWORD`). */
  password?: string;
  /** A CA certificate file (`NATS_CA`). */
  caFile?: string;
  /** A client certificate file (`NATS_CERT`), with {@linkcode Credentials.keyFile}. */
  certFile?: string;
  /** The client certificate's key file (`NATS_KEY`). */
  keyFile?: string;
}

/** Options of `Cortex.submit`. */
export interface SubmitOptions {
  /** The job's id. Default `job-<random>`; in durable mode a repeated id is one job. */
  jobId?: string;
  /** Its priority. Default none (the scheduler's lowest). */
  priority?: JobPriority;
  /** How long to wait for its outcome, in ms, before rejecting. Default 65,000 (past the scheduler's 60 s job timeout). */
  timeoutMs?: number;
  /** Durable mode: attempts before it is dead-lettered. Default: the scheduler's `CORTEX_MAX_ATTEMPTS`. */
  maxAttempts?: number;
  /** Stops waiting (rejects with its reason); the job itself is not cancelled. */
  signal?: AbortSignal;
}

/** Options of `Cortex.submitMany`: those of `submit`, and how to run many. */
export interface SubmitManyOptions extends Omit<SubmitOptions, "jobId"> {
  /** Jobs awaiting their outcomes at once (or being sent, with `wait: false`), at most. Default 100. */
  concurrency?: number;
  /**
   * The id of the job made of the payload at `index` (from 0), e.g.
   * numbered ids. Default `job-<uuid>`. An id already awaited by this
   * Cortex is an error.
   */
  jobId?: (index: number) => string;
  /**
   * Takes each job whose outcome cannot arrive (not stored, or none within
   * `timeoutMs`), and the iteration goes on. Default: none, and such a job
   * ends the iteration with its error.
   */
  onMissing?: (error: NoOutcomeError) => void;
  /**
   * `false`: send the jobs without awaiting their outcomes; the iteration
   * yields nothing and ends once every job is sent (core: flushed to the
   * server; durable: stored by the stream). Default `true`.
   */
  wait?: boolean;
}

/** The outcome of one job: every final status resolves, FAILED included. */
export interface JobOutcome {
  /** The job's id. */
  jobId: string;
  /** How it ended. */
  status: JobStatus;
  /** The handler's output (empty unless COMPLETED). */
  output: Uint8Array;
  /** The last attempt's error, `""` when none. */
  error: string;
  /** The worker that ran the last attempt, `""` when none did. */
  workerId: string;
  /** How long the last attempt ran, in ms. */
  executionMs: number;
  /** Attempts made (1 in core mode). */
  attempts: number;
  /** From sending the job to its outcome's arrival at this client, in ms. */
  roundTripMs: number;
  /**
   * {@linkcode JobOutcome.output} read as UTF-8. A method, shared by every
   * outcome: call it on the outcome (`outcome.text()`), not detached.
   */
  text(): string;
  /**
   * {@linkcode JobOutcome.output} read as JSON. A method, like `text()`.
   *
   * @throws {SyntaxError} when it is not JSON.
   */
  json<T = unknown>(): T;
}

/** One job as a handler sees it. */
export interface Job {
  /** The job's id. */
  id: string;
  /** The topic it came on. */
  topic: string;
  /** Its input bytes. */
  payload: Uint8Array<ArrayBuffer>;
  /** Its priority (`"batch"`, ...), `"unspecified"` when none was given. */
  priority: JobPriority | "unspecified";
  /**
   * The attempt this is, from 1: always 1 in core mode; in durable mode it
   * counts every delivery of the job (a retry after a failure, a
   * redelivery after a worker stopped or died) and the attempts a retry
   * by hand allowed before.
   */
  attempt: number;
  /**
   * Aborted when the job is cancelled while it runs (`POST
   * /api/jobs/:id/cancel`; its reason an `Error` saying "job … was
   * cancelled"), and when the worker stops and the job is still running
   * {@linkcode WorkerOptions.stopGraceMs} later (its reason an `Error`
   * saying so). Pass it on to work that takes one (`fetch`, timers). What
   * a cancelled job's handler returns or throws afterwards is not
   * reported: its one result is CANCELLED.
   */
  signal: AbortSignal;
  /** The worker's logger. */
  log: Logger;
  /** {@linkcode Job.payload} read as UTF-8. */
  text(): string;
  /**
   * {@linkcode Job.payload} read as JSON.
   *
   * @throws {SyntaxError} when it is not JSON.
   */
  json<T = unknown>(): T;
}

/**
 * Runs one job. Its return value is the output, encoded like a payload
 * (bytes as is, a string as UTF-8, anything else as JSON); a throw or a
 * rejection makes the attempt FAILED with the error's message.
 */
export type Handler = (job: Job) => unknown;

/** Options of `Cortex.worker`. */
export interface WorkerOptions {
  /** Jobs run at once. Default 1. */
  concurrency?: number;
  /** The pool it joins (the dashboard groups by it). Default: the topic's last segment. */
  pool?: string;
  /** What it can do, reported in heartbeats. Default `[pool]`. */
  capabilities?: string[];
  /** Where it runs, reported in heartbeats. Default `"local"`. */
  region?: string;
  /** Its id, unique per worker. Default `<pool>-<random>`. */
  id?: string;
  /** Heartbeat interval, in ms. Default 5,000. */
  heartbeatMs?: number;
  /** Durable mode: how long a job's lease lasts without a sign of life, in ms. Default 5,000. */
  ackWaitMs?: number;
  /** Durable mode: delay before a second attempt, in ms (doubles per attempt). Default 1,000. */
  retryBaseMs?: number;
  /** Durable mode: longest delay between attempts, in ms. Default 30,000. */
  retryMaxMs?: number;
  /**
   * How long `stop()` lets jobs in flight run before it aborts their
   * {@linkcode Job.signal}, in ms. Default 10,000. `stop()` still waits for
   * each handler to return: one that ignores its signal holds it.
   */
  stopGraceMs?: number;
}
