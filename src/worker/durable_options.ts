/**
 * The options and bounds of the durable feed (`durable.ts`), apart from it
 * to keep each file short.
 *
 * @module
 */
import type { JobResult } from "../bus/messages.ts";
import type { WorkQueue } from "../bus/durable/work_queue.ts";
import type { CancelledJobs } from "../bus/control.ts";
import type { Logger } from "../log.ts";
import type { JobHandler } from "./job.ts";

/**
 * Deliveries run past a job's max attempts, for those that ended without a
 * report (seen: a cluster node killed mid-load cost a job 3 of its 3).
 */
export const LOST_DELIVERIES = 5;

/** The error of a job whose every delivery ended with its worker gone. */
export const NO_ATTEMPT_FINISHED =
  "no attempt finished: the worker running it stopped each time";

/**
 * How long one pull request waits for jobs, in ms: the least nats.js
 * allows. It bounds how long a graceful stop waits for the requests it has
 * open (messages they still bring are handed back at once); an idle worker
 * asks again once a second, which costs the server next to nothing.
 */
export const PULL_EXPIRES_MS = 1_000;

/**
 * A pull request that has not ended this long after it expired is given up
 * on (closed, and its slots asked for again): a connection lost at the
 * wrong moment must not leave the worker waiting for it forever.
 */
export const PULL_GUARD_MS = 10_000;

/** Options of `DurableFeed`. */
export interface DurableFeedOptions {
  /** The topic's work queue. */
  queue: WorkQueue;
  /** Where it says what happened. */
  log: Logger;
  /** Runs each job. */
  handler: JobHandler;
  /** This worker's id, in each report. */
  workerId: string;
  /** The topic served, for the logs. */
  topic: string;
  /** Jobs held at once: never more are pulled. */
  concurrency: number;
  /** The consumer's ack wait; the lease is renewed every third of it. */
  ackWaitMs: number;
  /** `CORTEX_RETRY_BASE_MS`: the delay before a second attempt. */
  retryBaseMs: number;
  /** `CORTEX_RETRY_MAX_MS`: the longest delay between attempts. */
  retryMaxMs: number;
  /** Jobs cancelled: skipped when delivered, aborted when running. */
  cancels?: CancelledJobs;
  /** Told of every attempt once it is reported and its job settled. */
  onAttempt?: (result: JobResult, final: boolean) => void;
  /** Random source in [0, 1) for the retry jitter. Default `Math.random`. */
  random?: () => number;
  /** `REPORT_PAUSES_MS` (report_retry.ts) unless a test says otherwise. */
  reportPausesMs?: readonly number[];
  /** {@linkcode PULL_EXPIRES_MS} unless a test says otherwise. */
  pullExpiresMs?: number;
}

/** What a worker needs in durable mode (docs/durability.md). */
export interface DurableWorkerOptions {
  /** The topic's work queue, which jobs are pulled from and attempts reported to. */
  queue: WorkQueue;
  /** `CORTEX_ACK_WAIT_MS`: the consumer's ack wait; the lease is renewed every third of it. */
  ackWaitMs: number;
  /** `CORTEX_RETRY_BASE_MS`: the delay before a second attempt. */
  retryBaseMs: number;
  /** `CORTEX_RETRY_MAX_MS`: the longest delay between attempts. */
  retryMaxMs: number;
}
