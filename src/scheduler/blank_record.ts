/**
 * Records made outside the job table, for benches and tests.
 *
 * @module
 */
import { JobState } from "../contract/mod.ts";
import { type JobRecord, NO_ATTEMPTS } from "./job_table.ts";

/**
 * A PENDING record of `jobId` with every field empty and `extra` on top:
 * for benches and tests that feed the table's observers (history, queue
 * figures) records of their own. The table itself builds its records from
 * the submitted job.
 */
export function blankRecord(
  jobId: string,
  extra: Partial<JobRecord> = {},
): JobRecord {
  return {
    jobId,
    traceId: "",
    topic: "",
    priority: "unspecified",
    submitter: "",
    contextPtr: "",
    adapterId: "",
    envVars: {},
    payloadBytes: 0,
    payloadPreview: "",
    state: JobState.PENDING,
    subject: "",
    submittedAt: 0,
    workerId: "",
    executionMs: 0,
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
