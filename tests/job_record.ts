/**
 * A job table record for unit tests of what observes the table (history,
 * queue figures, bulk actions): COMPLETED on w1 for job.echo, the test's
 * own fields on top.
 *
 * @module
 */
import { blankRecord } from "../src/scheduler/blank_record.ts";
import type { JobRecord } from "../src/scheduler/job_table.ts";
import { JobState } from "../src/contract/mod.ts";

/** A record of job `id` (COMPLETED on w1, job.echo) with `extra` over the defaults. */
export function jobRecord(
  id: string,
  extra: Partial<JobRecord> = {},
): JobRecord {
  return blankRecord(id, {
    traceId: "t",
    topic: "job.echo",
    submitter: "s",
    state: JobState.COMPLETED,
    subject: "job.echo",
    workerId: "w1",
    executionMs: 1,
    ...extra,
  });
}
