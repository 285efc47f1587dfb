/**
 * The submit pipeline: validate → check safety → admit → route, the
 * decisions the scheduler makes about one submission. Synchronous and free
 * of I/O: it changes nothing but the job table, and says what the engine
 * must send (the job to its subject, or a refusal to the submitter).
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { JobResultSchema } from "../gen/cortex/v1/cortex_pb.ts";
import type { JobRequest, JobResult } from "../bus/messages.ts";
import { JobState, statusNumber } from "../contract/mod.ts";
import type { JobRecord, JobTable } from "./job_table.ts";
import type { SafetyChecker } from "./safety.ts";
import type { Strategy } from "./strategy.ts";
import {
  boundedJob,
  clipped,
  MAX_PACKET_ID_BYTES,
  validateJob,
  validateSender,
  type ValidationLimits,
} from "./validation.ts";

/** Who sent a submission, and when; recorded with the job. */
export interface SubmissionMeta {
  /** The trace id the job travels with. */
  traceId: string;
  /** Who submitted it (the packet's sender id, or "dashboard"). */
  submitter: string;
  /** Epoch ms the submitter created it, when it said. */
  createdAt?: number;
}

/** What the pipeline decided for one submission. */
export type Decision =
  | {
    /** Admitted: send it to `subject`. */
    kind: "dispatch";
    /** Its record in the job table, PENDING until the engine has sent it. */
    record: JobRecord;
    /** Where the strategy routes it. */
    subject: string;
  }
  | {
    /** Refused: invalid (FAILED) or against the safety policy (DENIED). */
    kind: "refuse";
    /** Which of the two. */
    state: typeof JobState.FAILED | typeof JobState.DENIED;
    /** Why, in words the submitter can act on. */
    reason: string;
    /**
     * The job as it may be kept, logged and shown: every field over its
     * limit clipped (see `boundedJob`); `job` itself when it kept them all.
     */
    job: JobRequest;
    /** The trace id to log and answer with, clipped like the job's fields. */
    traceId: string;
    /** The result to publish for it, carrying `job.jobId`. */
    result: JobResult;
    /** Its record, when the table could take it (its id was free). */
    record?: JobRecord;
  }
  | {
    /** Its id is held already: not run twice. */
    kind: "duplicate";
    /** The job that holds the id. */
    existing: JobRecord;
  };

/** Why a job may not run: invalid (FAILED) or against the safety policy (DENIED). */
export interface Refusal {
  /** Which of the two. */
  state: typeof JobState.FAILED | typeof JobState.DENIED;
  /** Why, in words the submitter can act on. */
  reason: string;
}

/**
 * The checks every submission passes before it is admitted, in core and
 * durable mode alike: validation against `limits`, then `safety`.
 * `undefined` when the job may run.
 *
 * @example
 * ```ts
 * checkJob(job, { safety, limits })?.state; // "DENIED" for sys.destroy
 * ```
 */
export function checkJob(
  job: JobRequest,
  parts: Pick<PipelineParts, "safety" | "limits">,
  sender?: { traceId: string; submitter: string },
): Refusal | undefined {
  const invalid = validateJob(job, parts.limits) ??
    (sender && validateSender(sender));
  if (invalid) return { state: JobState.FAILED, reason: invalid };
  const verdict = parts.safety.check(job);
  if (!verdict.allowed) {
    return { state: JobState.DENIED, reason: verdict.reason };
  }
  return undefined;
}

/** The parts a {@linkcode SubmitPipeline} consults. */
export interface PipelineParts {
  /** Decides which topics may run. */
  safety: SafetyChecker;
  /** Picks a job's subject. */
  strategy: Strategy;
  /** Where jobs are admitted. */
  jobs: JobTable;
  /** Limits every job must keep. */
  limits: ValidationLimits;
}

/**
 * Decides what becomes of each submission.
 *
 * @example
 * ```ts
 * const pipeline = new SubmitPipeline({ safety, strategy, jobs, limits });
 * const decision = pipeline.decide(job, { traceId, submitter: "cli" });
 * if (decision.kind === "dispatch") bus.publish(decision.subject, packet);
 * ```
 */
export class SubmitPipeline {
  readonly #parts: PipelineParts;

  /** A pipeline over `parts`; it keeps no state of its own. */
  constructor(parts: PipelineParts) {
    this.#parts = parts;
  }

  /**
   * Validates, checks safety, admits into the job table and routes `job`.
   * A refused job is recorded as final in the table when its id is free,
   * so the table and the dashboard show the refusal too.
   */
  decide(job: JobRequest, meta: SubmissionMeta): Decision {
    const { strategy, jobs } = this.#parts;
    const refusal = checkJob(job, this.#parts, meta);
    if (refusal) return this.#refuse(job, meta, refusal.state, refusal.reason);
    const admission = jobs.admit(job, meta);
    if (admission.admitted) {
      return {
        kind: "dispatch",
        record: admission.record,
        subject: strategy.route(job),
      };
    }
    if ("existing" in admission) {
      return { kind: "duplicate", existing: admission.existing };
    }
    return this.#refuse(
      job,
      meta,
      JobState.FAILED,
      "the scheduler's job table is full of jobs in flight (CORTEX_JOB_TABLE_SIZE); retry later",
    );
  }

  #refuse(
    job: JobRequest,
    meta: SubmissionMeta,
    state: typeof JobState.FAILED | typeof JobState.DENIED,
    reason: string,
  ): Decision {
    // What a refusal keeps is bounded whatever the job sent: the record,
    // the log line and the result carry clipped fields only. An id over
    // the limit is answered clipped too: the submitter matches it by its
    // first 64 bytes and its size, which the clipped id says.
    const kept = boundedJob(job, this.#parts.limits);
    const bounded: SubmissionMeta = {
      traceId: clipped(meta.traceId, MAX_PACKET_ID_BYTES),
      submitter: clipped(meta.submitter, MAX_PACKET_ID_BYTES),
      createdAt: meta.createdAt,
    };
    const result = create(JobResultSchema, {
      jobId: kept.jobId,
      status: statusNumber(state),
      error: reason,
    });
    let record: JobRecord | undefined;
    if (kept.jobId !== "") {
      // Unless the id is held by a job that must not be disturbed.
      const admission = this.#parts.jobs.admit(kept, bounded);
      if (admission.admitted) record = this.#parts.jobs.finish(result);
    }
    return {
      kind: "refuse",
      state,
      reason,
      job: kept,
      traceId: bounded.traceId,
      result,
      record,
    };
  }
}
