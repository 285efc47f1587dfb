/**
 * What a job handler is and produces, and the `JobResult` an attempt
 * becomes: shared by the core and the durable ways of taking jobs.
 *
 * @module
 */
import { JobStatus } from "../gen/cortex/v1/cortex_pb.ts";
import type { JobRequest, JobResult } from "../bus/messages.ts";

/** The output of a failed job: none, one shared empty array. */
const EMPTY = new Uint8Array(0);

/** What a handler produces: output bytes, or a failure. */
export type JobOutcome =
  | { status: "completed"; output: Uint8Array }
  | { status: "failed"; error: string };

/**
 * Runs one job. A thrown error or rejection becomes a FAILED result.
 * `attempt` is the attempt's number in durable mode (from 1, counting
 * deliveries and the attempts a retry by hand allowed before); core mode
 * does not pass it. `signal` is aborted when the job is cancelled
 * (`sys.cancel`) while it runs, and then what the handler returns is not
 * reported (the scheduler published CANCELLED); or when a stop runs past
 * its grace (`Worker.abortJobs`), and then it is.
 */
export type JobHandler = (
  job: JobRequest,
  attempt: number | undefined,
  signal: AbortSignal,
) => JobOutcome | Promise<JobOutcome>;

/** The reason a cancelled job's signal is aborted with. */
export function cancelledError(jobId: string): Error {
  return new Error(`job ${jobId} was cancelled`);
}

/** The outcome of a handler that threw or rejected with `error`. */
export function failure(error: unknown): JobOutcome {
  return {
    status: "failed",
    error: error instanceof Error ? error.message : String(error),
  };
}

/** Whether a handler answered later (a promise) rather than at once. */
export function isPromise(
  value: JobOutcome | Promise<JobOutcome>,
): value is Promise<JobOutcome> {
  return typeof (value as { then?: unknown }).then === "function";
}

/**
 * The `JobResult` of one attempt of `job` by `workerId`: COMPLETED with the
 * output, or FAILED with the error.
 */
export function jobResult(
  job: JobRequest,
  workerId: string,
  executionMs: number,
  outcome: JobOutcome,
  attempts: number,
): JobResult {
  const completed = outcome.status === "completed";
  // A literal rather than create(JobResultSchema, …): one per job, and the
  // compiler checks it names every field.
  return {
    $typeName: "cortex.v1.JobResult",
    jobId: job.jobId,
    status: completed ? JobStatus.COMPLETED : JobStatus.FAILED,
    resultPtr: "",
    workerId,
    executionMs: BigInt(Math.round(executionMs)),
    output: completed ? outcome.output : EMPTY,
    error: completed ? "" : outcome.error,
    attempts,
  };
}
