/**
 * The scheduler's records as the API shows them: functions that map the
 * internal {@linkcode JobRecord} and {@linkcode WorkerView} to the shapes
 * declared in the contract (`src/contract/api.ts`), field by field, so an
 * internal change cannot change the API unnoticed.
 *
 * @module
 */
import {
  type Counters,
  type JobDetail,
  JobState,
  type JobStep,
  type JobSummary,
  type WorkerSummary,
} from "../contract/mod.ts";
import type {
  JobRecord,
  SchedulerCounters,
  WorkerView,
} from "../scheduler/service.ts";

function roundTrip(record: JobRecord): number | null {
  if (record.finishedAt === undefined) return null;
  return Math.max(
    0,
    record.finishedAt - (record.createdAt ?? record.submittedAt),
  );
}

/**
 * The feed row of `record`.
 *
 * @example
 * ```ts
 * jobSummary(scheduler.jobs.get("job-1")!).topic; // "job.echo"
 * ```
 */
export function jobSummary(record: JobRecord): JobSummary {
  const summary: JobSummary = {
    jobId: record.jobId,
    topic: record.topic,
    state: record.state,
    priority: record.priority,
    workerId: record.workerId,
    executionMs: record.executionMs,
    roundTripMs: roundTrip(record),
    submittedAt: record.submittedAt,
    finishedAt: record.finishedAt ?? null,
    error: record.error,
  };
  // Set after, not spread into the literal: a spread makes every summary
  // (one per job in the history) go through a slower, larger object path.
  if (record.deadLettered) summary.deadLettered = true;
  if (record.discarded) summary.discarded = true;
  return summary;
}

/**
 * The detail view of `record`: request, result, state history and timings.
 * The history is rebuilt from the record's timestamps, which the job table
 * keeps for exactly these steps.
 *
 * @example
 * ```ts
 * jobDetail(record).history.length; // 3: received, dispatched, finished
 * ```
 */
export function jobDetail(record: JobRecord): JobDetail {
  const finished = record.finishedAt !== undefined;
  const history: JobStep[] = [];
  if (record.topic !== "" || record.submitter !== "") {
    history.push({
      state: JobState.PENDING,
      at: record.submittedAt,
      note: record.submitter ? `received from ${record.submitter}` : "received",
    });
  }
  const retries = record.retriedByHand ?? [];
  // Each outcome before a retry by hand stays in the history.
  for (const before of retries) {
    if (before.dispatchedAt !== undefined) {
      history.push({
        state: JobState.DISPATCHED,
        at: before.dispatchedAt,
        note: "dispatched",
      });
    }
    if (before.finishedAt !== undefined) {
      history.push({
        state: before.state,
        at: before.finishedAt,
        note: [before.error, before.deadLettered ? "dead-lettered" : ""]
          .filter(Boolean).join("; "),
      });
    }
  }
  if (record.dispatchedAt !== undefined) {
    const last = retries.at(-1);
    history.push({
      state: JobState.DISPATCHED,
      at: record.dispatchedAt,
      note: last
        ? `retried by hand by ${last.by}; to ${record.subject}`
        : `to ${record.subject}`,
    });
  }
  if (finished) {
    history.push({
      state: record.state,
      at: record.finishedAt!,
      note: record.error ||
        (record.workerId ? `by ${record.workerId}` : ""),
    });
  }
  return {
    jobId: record.jobId,
    traceId: record.traceId,
    state: record.state,
    request: {
      topic: record.topic,
      priority: record.priority,
      submitter: record.submitter,
      contextPtr: record.contextPtr,
      adapterId: record.adapterId,
      envVars: record.envVars,
      payloadBytes: record.payloadBytes,
      payloadPreview: record.payloadPreview,
    },
    result: finished
      ? {
        workerId: record.workerId,
        executionMs: record.executionMs,
        resultPtr: record.resultPtr,
        outputBytes: record.outputBytes,
        outputPreview: record.outputPreview,
        error: record.error,
      }
      : null,
    history,
    attempts: record.attempts.map((a) => ({
      attempt: a.attempt,
      workerId: a.workerId,
      state: a.state,
      error: a.error,
      executionMs: a.executionMs,
      at: a.at,
    })),
    maxAttempts: record.maxAttempts,
    deadLettered: record.deadLettered,
    retriedByHand: retries.map((r) => ({
      at: r.at,
      by: r.by,
      state: r.state,
      error: r.error,
      deadLettered: r.deadLettered,
    })),
    retryable: record.retryable ?? false,
    timings: {
      createdAt: record.createdAt ?? null,
      submittedAt: record.submittedAt,
      dispatchedAt: record.dispatchedAt ?? null,
      finishedAt: record.finishedAt ?? null,
      dispatchMs: record.dispatchedAt === undefined
        ? null
        : record.dispatchedAt - record.submittedAt,
      executionMs: finished ? record.executionMs : null,
      roundTripMs: roundTrip(record),
    },
  };
}

/**
 * The API's view of one worker.
 *
 * @example
 * ```ts
 * workerSummary(scheduler.workers.get("echo-1")!).pool; // "echo"
 * ```
 */
export function workerSummary(worker: WorkerView): WorkerSummary {
  return {
    workerId: worker.workerId,
    pool: worker.pool,
    region: worker.region,
    type: worker.type,
    capabilities: worker.capabilities,
    activeJobs: worker.activeJobs,
    maxParallelJobs: worker.maxParallelJobs,
    cpuLoad: worker.cpuLoad,
    gpuUtilization: worker.gpuUtilization,
    state: worker.state,
    firstSeen: worker.firstSeen,
    lastSeen: worker.lastSeen,
    left: worker.left,
  };
}

/**
 * The API's copy of the scheduler's counters, taken now.
 *
 * @example
 * ```ts
 * countersView(scheduler.counters).completed; // 0
 * ```
 */
export function countersView(c: Readonly<SchedulerCounters>): Counters {
  return {
    submitted: c.submitted,
    dispatched: c.dispatched,
    completed: c.completed,
    failed: c.failed,
    denied: c.denied,
    timeout: c.timeout,
    cancelled: c.cancelled,
    duplicates: c.duplicates,
    lateResults: c.lateResults,
    unknownResults: c.unknownResults,
    misroutedResults: c.misroutedResults,
    badHeartbeats: c.badHeartbeats,
  };
}
