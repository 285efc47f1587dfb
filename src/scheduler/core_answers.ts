/**
 * The core engine's answers that are not the submit pipeline's: a
 * duplicate submission and a cancel. Apart from `engine.ts` to keep it
 * short; they act through {@linkcode CoreParts}, the engine's own.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { JobResultSchema } from "../gen/cortex/v1/cortex_pb.ts";
import type { JobResult } from "../bus/messages.ts";
import { isFinal, JobState, statusNumber } from "../contract/mod.ts";
import type { Logger } from "../log.ts";
import {
  cancelError,
  cancelled,
  type ControlNotices,
  finalJob,
  unknownJob,
} from "./actions.ts";
import type { JobRecord, JobTable } from "./job_table.ts";
import type {
  ActionResult,
  SchedulerCounters,
  SubmitOutcome,
} from "./service.ts";

/** What the core engine lends these answers. */
export interface CoreParts {
  /** Its job table. */
  jobs: JobTable;
  /** Its counters. */
  counters: SchedulerCounters;
  /** Its logger. */
  log: Logger;
  /** Its notices to workers. */
  control: ControlNotices;
  /** Publishes a result on `sys.job.result` as the scheduler. */
  publish(result: JobResult, traceId: string): void;
  /** Tells the observers a job changed. */
  emit(record: JobRecord): void;
}

/**
 * Cancels `jobId` on behalf of `by` in core mode: the job table's first
 * result wins, so a CANCELLED written here fences the worker's later
 * result (counted late, not recorded). Publishes CANCELLED on
 * `sys.job.result` and the cancel notice for the workers.
 *
 * @example
 * ```ts
 * const outcome = cancelHeld(parts, "job-1", "dashboard");
 * ```
 */
export function cancelHeld(
  parts: CoreParts,
  jobId: string,
  by: string,
): ActionResult {
  const held = parts.jobs.get(jobId);
  if (!held) return unknownJob(jobId);
  const result = create(JobResultSchema, {
    jobId,
    status: statusNumber(JobState.CANCELLED),
    error: cancelError(by),
  });
  const record = parts.jobs.finish(result);
  if (!record) return finalJob(jobId, held.state);
  parts.counters.cancelled++;
  // The notice first: a worker that holds the job drops it before the
  // submitter, hearing CANCELLED, may submit it again.
  parts.control.cancelled(jobId);
  parts.publish(result, record.traceId);
  parts.log.info("job {job_id} cancelled by {by} (trace {trace_id})", {
    job_id: jobId,
    by,
    trace_id: record.traceId,
  });
  parts.emit(record);
  return cancelled(jobId, by);
}

/**
 * The answer to a submission of an id the table holds: not dispatched
 * twice; a final job's result is sent again, so a submitter that lost it
 * hears it.
 */
export function answerDuplicate(
  parts: CoreParts,
  existing: JobRecord,
  traceId: string,
): SubmitOutcome {
  parts.counters.duplicates++;
  const final = isFinal(existing.state) ? existing.state : undefined;
  parts.log.info(
    final
      ? "job {job_id} submitted again after it ended {state}: not dispatched twice; its result is sent again (trace {trace_id})"
      : "job {job_id} submitted again while {state}: not dispatched twice (trace {trace_id})",
    { job_id: existing.jobId, state: existing.state, trace_id: traceId },
  );
  if (final) {
    parts.publish(
      create(JobResultSchema, {
        jobId: existing.jobId,
        status: statusNumber(final),
        workerId: existing.workerId,
        executionMs: BigInt(existing.executionMs),
        resultPtr: existing.resultPtr,
        error: existing.error,
      }),
      existing.traceId || traceId,
    );
  }
  return {
    status: "duplicate",
    jobId: existing.jobId,
    traceId,
    state: existing.state,
  };
}
