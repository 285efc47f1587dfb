/**
 * The changes the scheduler makes to a ledger entry, each a pure function
 * from the entry as read to the entry to write, or `undefined` when the
 * change is fenced (the job is final already, or the attempt is recorded
 * already): the store applies it with a compare-and-set on the entry's
 * revision, so replicas and redeliveries record each outcome exactly once.
 *
 * @module
 */
import type { JobRequest, JobResult } from "../bus/messages.ts";
import { isFinalAttempt, WORK_PREFIX } from "../bus/durable/layout.ts";
import {
  type FinalState,
  finalState,
  isFinal,
  JobState,
} from "../contract/mod.ts";
import {
  type HandRetry,
  LEDGER_OUTPUT_BYTES,
  type LedgerEntry,
  preview,
  retryProblem,
  toBase64,
} from "./ledger.ts";

/** An entry's outcome fields before the job has one (admitted, or retried by hand). */
const NO_OUTCOME = {
  workerId: "",
  executionMs: 0,
  resultPtr: "",
  outputBytes: 0,
  output: "",
  error: "",
  deadLettered: false,
} as const satisfies Partial<LedgerEntry>;

/** Who submitted a job, when, and what the scheduler decided for it. */
export interface Admission {
  /** The trace id it travels with. */
  traceId: string;
  /** Who submitted it. */
  submitter: string;
  /** The submitter's `created_at`, when it said. */
  createdAt?: number;
  /** The stream sequence of the submission. */
  submitSeq: number;
  /** Now. */
  now: number;
  /** Where it is dispatched ("" for a refused job). */
  subject: string;
  /** Its attempts (the request's, or the default). */
  maxAttempts: number;
  /** When it times out. */
  deadline: number;
}

/** A new entry for `job`, DISPATCHED to `admission.subject`. */
export function admittedEntry(
  job: JobRequest,
  admission: Admission,
): LedgerEntry {
  return {
    v: 1,
    jobId: job.jobId,
    traceId: admission.traceId,
    topic: job.topic,
    priority: job.priority,
    submitter: admission.submitter,
    contextPtr: job.contextPtr,
    adapterId: job.adapterId,
    envVars: { ...job.envVars },
    payloadBytes: job.payload.length,
    payloadPreview: preview(job.payload),
    payload: job.payload.length > 0 ? toBase64(job.payload) : undefined,
    state: JobState.DISPATCHED,
    subject: admission.subject,
    maxAttempts: admission.maxAttempts,
    attempts: [],
    ...NO_OUTCOME,
    duplicates: 0,
    submitSeq: admission.submitSeq,
    change: "created",
    createdAt: admission.createdAt,
    submittedAt: admission.now,
    dispatchedAt: admission.now,
    deadline: admission.deadline,
  };
}

/** A new, final entry for a job refused as FAILED (invalid) or DENIED. */
export function refusedEntry(
  job: JobRequest,
  admission: Admission,
  state: typeof JobState.FAILED | typeof JobState.DENIED,
  reason: string,
): LedgerEntry {
  const entry = admittedEntry(job, admission);
  entry.state = state;
  entry.subject = "";
  entry.payload = undefined;
  entry.dispatchedAt = undefined;
  entry.finishedAt = admission.now;
  entry.error = reason;
  return entry;
}

/** A second submission of the entry's id: counted, nothing else changes. */
export function duplicateSubmission(entry: LedgerEntry): LedgerEntry {
  return { ...entry, duplicates: entry.duplicates + 1, change: "duplicate" };
}

/**
 * Records one attempt reported by a durable worker (`result.attempts` is
 * its number): `undefined` when fenced (the job is final, or that attempt
 * is recorded already). The attempt ends the job when
 * {@linkcode isFinalAttempt} says so; a FAILED final attempt after the
 * last allowed one is dead-lettered.
 */
export function recordAttempt(
  entry: LedgerEntry,
  result: JobResult,
  now: number,
): LedgerEntry | undefined {
  const attempt = Math.max(1, result.attempts);
  if (isFinal(entry.state)) return undefined;
  // An attempt of a dispatch before the latest retry by hand: that
  // dispatch's message may still be delivered (a job that timed out).
  if (attempt <= (entry.attemptBase ?? 0)) return undefined;
  if (entry.attempts.some((a) => a.attempt === attempt)) return undefined;
  const state = finalState(result.status);
  const failed = state !== JobState.COMPLETED;
  const attempts = [...entry.attempts, {
    attempt,
    workerId: result.workerId,
    state,
    error: result.error,
    executionMs: Number(result.executionMs),
    at: now,
  }];
  if (!isFinalAttempt(failed, attempt, entry.maxAttempts)) {
    return { ...entry, attempts, change: "attempt" };
  }
  return finish({ ...entry, attempts }, state, result, now, {
    deadLettered: state === JobState.FAILED && attempt >= entry.maxAttempts,
  });
}

/**
 * Whether a job was dispatched on the core route (to a core worker's
 * subject), so a result on core NATS may end it; one dispatched to the
 * durable work stream is ended by its attempt reports only.
 */
export function dispatchedOnCore(entry: LedgerEntry): boolean {
  return entry.dispatchedAt !== undefined && entry.subject !== "" &&
    !entry.subject.startsWith(WORK_PREFIX);
}

/**
 * Records a result that arrived on core NATS (a core worker's, the Go
 * MVP's): it ends the job unless the job is final already, or was not
 * dispatched on the core route (`undefined`: a forged core result must not
 * end a durably dispatched job).
 */
export function recordCoreResult(
  entry: LedgerEntry,
  result: JobResult,
  now: number,
): LedgerEntry | undefined {
  if (isFinal(entry.state) || !dispatchedOnCore(entry)) return undefined;
  const state = finalState(result.status);
  const attempt = Math.max(
    entry.attemptBase ?? 0,
    ...entry.attempts.map((a) => a.attempt),
  ) + 1;
  const attempts = [...entry.attempts, {
    attempt,
    workerId: result.workerId,
    state,
    error: result.error,
    executionMs: Number(result.executionMs),
    at: now,
  }];
  return finish({ ...entry, attempts }, state, result, now, {
    deadLettered: false,
  });
}

/** Ends a job whose deadline has passed; `undefined` when it is final already or not yet due. */
export function timeOut(
  entry: LedgerEntry,
  now: number,
  timeoutMs: number,
): LedgerEntry | undefined {
  if (isFinal(entry.state) || now < entry.deadline) return undefined;
  return {
    ...entry,
    state: JobState.TIMEOUT,
    error: `no result within ${timeoutMs} ms`,
    finishedAt: now,
    change: "final",
  };
}

/**
 * The entry of a job cancelled by hand: CANCELLED now, with who asked as
 * its error; `undefined` when it is final already (a result, a timeout or
 * another cancel came first). An attempt reported after it is fenced, as
 * after any final state.
 */
export function cancelEntry(
  entry: LedgerEntry,
  now: number,
  error: string,
): LedgerEntry | undefined {
  if (isFinal(entry.state)) return undefined;
  return {
    ...entry,
    state: JobState.CANCELLED,
    error,
    finishedAt: now,
    change: "final",
  };
}

/** What a retry by hand needs besides the entry. */
export interface RetryRequest {
  /** Who asks. */
  by: string;
  /** Now. */
  now: number;
  /** Where it is dispatched now (the route may have changed). */
  subject: string;
  /** When it times out unless final before. */
  deadline: number;
}

/**
 * The entry of a job retried by hand: DISPATCHED again to `retry.subject`
 * with a new deadline, as many attempts again as its last dispatch was
 * allowed (numbered after them), its outcome cleared and kept in
 * {@linkcode LedgerEntry.retriedByHand}; its attempts stay. `undefined`
 * when {@linkcode retryProblem} says it cannot be retried (a replica or a
 * second request did it first).
 */
export function retryEntry(
  entry: LedgerEntry,
  retry: RetryRequest,
): LedgerEntry | undefined {
  if (retryProblem(entry) !== undefined) return undefined;
  const base = entry.attemptBase ?? 0;
  const perDispatch = Math.max(1, entry.maxAttempts - base);
  const before: HandRetry = {
    at: retry.now,
    by: retry.by,
    state: entry.state as FinalState,
    error: entry.error,
    deadLettered: entry.deadLettered,
    dispatchedAt: entry.dispatchedAt,
    finishedAt: entry.finishedAt,
    workerId: entry.workerId,
  };
  return {
    ...entry,
    state: JobState.DISPATCHED,
    subject: retry.subject,
    attemptBase: entry.maxAttempts,
    maxAttempts: entry.maxAttempts + perDispatch,
    retriedByHand: [...(entry.retriedByHand ?? []), before],
    ...NO_OUTCOME,
    // A new life: should it be dead-lettered again, it is listed again.
    discarded: undefined,
    dispatchedAt: retry.now,
    finishedAt: undefined,
    deadline: retry.deadline,
    change: "retried",
  };
}

function finish(
  entry: LedgerEntry,
  state: FinalState,
  result: JobResult,
  now: number,
  { deadLettered }: { deadLettered: boolean },
): LedgerEntry {
  return {
    ...entry,
    state,
    workerId: result.workerId,
    executionMs: Number(result.executionMs),
    resultPtr: result.resultPtr,
    outputBytes: result.output.length,
    output: toBase64(result.output.subarray(0, LEDGER_OUTPUT_BYTES)),
    error: result.error,
    deadLettered,
    finishedAt: now,
    change: "final",
  };
}
