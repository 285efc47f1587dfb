/**
 * A job table record for unit tests of what observes the table (history,
 * queue figures, bulk actions): every field set to a plain default, the
 * test's own on top.
 *
 * @module
 */
import { type JobRecord, NO_ATTEMPTS } from "../src/scheduler/job_table.ts";
import { JobState } from "../src/contract/mod.ts";

/** A record of job `id` (COMPLETED on w1, job.echo) with `extra` over the defaults. */
export function jobRecord(
  id: string,
  extra: Partial<JobRecord> = {},
): JobRecord {
  return {
    jobId: id,
    traceId: "t",
    topic: "job.echo",
    priority: "unspecified",
    submitter: "s",
    contextPtr: "",
    adapterId: "",
    envVars: {},
    payloadBytes: 0,
    payloadPreview: "",
    state: JobState.COMPLETED,
    subject: "job.echo",
    submittedAt: 0,
    workerId: "w1",
    executionMs: 1,
    resultPtr: "",
    outputBytes: 0,
    outputPreview: "",
    error: "",
    attempts: NO_ATTEMPTS,
    maxAttempts: 0,
    deadLettered: false,
    ...extra,
  };
}
