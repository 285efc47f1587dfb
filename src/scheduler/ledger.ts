/**
 * The ledger entry: what durable mode keeps of one job in the KV bucket
 * (`LEDGER_BUCKET`, key `ledgerKey(id)`), its JSON codec, and the pure
 * changes the scheduler makes to it. Each change is a function from the
 * entry as read to the entry to write, or `undefined` when the change is
 * fenced (the job is final already, or the attempt is recorded already):
 * the store applies it with a compare-and-set on the entry's revision, so
 * replicas and redeliveries record each outcome exactly once.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import {
  JobRequestSchema,
  JobResultSchema,
} from "../gen/cortex/v1/cortex_pb.ts";
import type { JobRequest, JobResult } from "../bus/messages.ts";
import { isFinalAttempt } from "../bus/durable/layout.ts";
import {
  type FinalState,
  finalState,
  isFinal,
  JobState,
  priorityName,
  statusNumber,
} from "../contract/mod.ts";
import {
  type AttemptRecord,
  type JobRecord,
  PREVIEW_BYTES,
} from "./job_table.ts";

/** How much of a job's output the ledger keeps (and republishes). */
export const LEDGER_OUTPUT_BYTES = 64 * 1024;

/**
 * What the last write of an entry changed; with it a replica that did not
 * hold the entry before can still count the change once.
 */
export type LedgerChange =
  | "created"
  | "attempt"
  | "final"
  | "duplicate"
  | "retried";

/** One job in the ledger. Times are epoch ms. */
export interface LedgerEntry {
  /** The format of the entry; 1. */
  v: 1;
  /** The submitter's id for the job. */
  jobId: string;
  /** The trace of the packet that submitted it. */
  traceId: string;
  /** The subject family it was submitted for. */
  topic: string;
  /** Its wire priority number. */
  priority: number;
  /** Who submitted it. */
  submitter: string;
  /** Where the job's context is kept; "" for none. */
  contextPtr: string;
  /** The adapter asked for; "" for none. */
  adapterId: string;
  /** Environment variables for the job. */
  envVars: Record<string, string>;
  /** Size of the inline payload, in bytes. */
  payloadBytes: number;
  /** The payload's first KiB as text. */
  payloadPreview: string;
  /**
   * The whole payload, base64 (bounded by `CORTEX_MAX_PAYLOAD_BYTES`, which
   * admission checks), so a retry by hand can send the job again; absent
   * for refused jobs and for entries written before it was kept.
   */
  payload?: string;
  /** Where it is in its life. */
  state: JobState;
  /** The subject it was dispatched to ("" when refused). */
  subject: string;
  /** How many attempts it may take, counting those before each retry by hand. */
  maxAttempts: number;
  /**
   * Attempts allowed before its latest dispatch (0, or absent, for the
   * first): reports of attempts up to it belong to an earlier dispatch and
   * are fenced. Each retry by hand sets it to the `maxAttempts` before.
   */
  attemptBase?: number;
  /** Each retry by hand, oldest first; absent when never retried. */
  retriedByHand?: HandRetry[];
  /** Every attempt recorded, oldest first. */
  attempts: AttemptRecord[];
  /** The worker of the final outcome. */
  workerId: string;
  /** Run time of the final attempt, in ms. */
  executionMs: number;
  /** Where the worker put the result; "" for none. */
  resultPtr: string;
  /** Size of the final output, in bytes. */
  outputBytes: number;
  /** The final output's first {@linkcode LEDGER_OUTPUT_BYTES}, base64. */
  output: string;
  /** Why it failed, was denied or timed out. */
  error: string;
  /** It FAILED after its last attempt: listed as dead-lettered. */
  deadLettered: boolean;
  /** Submissions of its id after the first. */
  duplicates: number;
  /** The stream sequence of the submission that admitted it (0: none). */
  submitSeq: number;
  /** What the last write changed. */
  change: LedgerChange;
  /** The submitter's `created_at`, when it said. */
  createdAt?: number;
  /** When a scheduler took it in. */
  submittedAt: number;
  /** When it was dispatched. */
  dispatchedAt?: number;
  /** When it reached a final state. */
  finishedAt?: number;
  /** When it is TIMEOUT unless final before. */
  deadline: number;
}

/** One retry by hand: who asked, when, and how the job had ended before. */
export interface HandRetry {
  /** When it was dispatched again. */
  at: number;
  /** Who asked (the dashboard, or the sender id of a `sys.job.retry` request). */
  by: string;
  /** The final state it had. */
  state: FinalState;
  /** Its error then. */
  error: string;
  /** It was dead-lettered then. */
  deadLettered: boolean;
  /** When it had been dispatched before. */
  dispatchedAt?: number;
  /** When it had ended. */
  finishedAt?: number;
  /** The worker of that outcome. */
  workerId: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The entry's bytes in the bucket (JSON). */
export function encodeEntry(entry: LedgerEntry): Uint8Array {
  return encoder.encode(JSON.stringify(entry));
}

/**
 * An entry from its bytes, or `undefined` for bytes that are not one (a
 * key written by something else): the caller logs and skips it.
 */
export function decodeEntry(bytes: Uint8Array): LedgerEntry | undefined {
  try {
    const entry = JSON.parse(decoder.decode(bytes));
    return entry?.v === 1 && typeof entry.jobId === "string"
      ? entry as LedgerEntry
      : undefined;
  } catch {
    return undefined;
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function preview(bytes: Uint8Array): string {
  return bytes.length === 0
    ? ""
    : decoder.decode(bytes.subarray(0, PREVIEW_BYTES));
}

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
    workerId: "",
    executionMs: 0,
    resultPtr: "",
    outputBytes: 0,
    output: "",
    error: "",
    deadLettered: false,
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
 * Records a result that arrived on core NATS (a core worker's, the Go
 * MVP's): it ends the job unless the job is final already (`undefined`).
 */
export function recordCoreResult(
  entry: LedgerEntry,
  result: JobResult,
  now: number,
): LedgerEntry | undefined {
  if (isFinal(entry.state)) return undefined;
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
 * Why the job of `entry` cannot be retried by hand, or `undefined` when it
 * can: it must have ended FAILED (dead-lettered or not) or TIMEOUT after
 * being dispatched, and its payload must be kept.
 */
export function retryProblem(entry: LedgerEntry): string | undefined {
  if (entry.state !== JobState.FAILED && entry.state !== JobState.TIMEOUT) {
    return `job ${entry.jobId} is ${entry.state}: only a job that ended FAILED (dead-lettered or not) or TIMEOUT can be retried`;
  }
  if (entry.dispatchedAt === undefined || entry.subject === "") {
    return `job ${entry.jobId} was refused at submission (${entry.error}): it never ran, and would be refused again; submit a corrected job under a new id`;
  }
  if (entry.payloadBytes > 0 && entry.payload === undefined) {
    return `job ${entry.jobId} was admitted by a version that did not keep payloads: it cannot be sent again; submit it anew under a new id`;
  }
  return undefined;
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
    workerId: "",
    executionMs: 0,
    resultPtr: "",
    outputBytes: 0,
    output: "",
    error: "",
    deadLettered: false,
    dispatchedAt: retry.now,
    finishedAt: undefined,
    deadline: retry.deadline,
    change: "retried",
  };
}

/**
 * The request to dispatch for an entry (a retry by hand sends it again):
 * the job as submitted, its payload from the ledger, its attempts and the
 * base they are numbered after.
 */
export function requestOf(entry: LedgerEntry): JobRequest {
  return create(JobRequestSchema, {
    jobId: entry.jobId,
    topic: entry.topic,
    priority: entry.priority,
    contextPtr: entry.contextPtr,
    adapterId: entry.adapterId,
    envVars: { ...entry.envVars },
    payload: entry.payload ? fromBase64(entry.payload) : new Uint8Array(),
    maxAttempts: entry.maxAttempts,
    attemptBase: entry.attemptBase ?? 0,
  });
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

/**
 * The one result published on `sys.job.result` for a final entry (its
 * output as the ledger keeps it), with the attempts it took.
 */
export function resultOf(entry: LedgerEntry): JobResult {
  return create(JobResultSchema, {
    jobId: entry.jobId,
    status: statusNumber(
      isFinal(entry.state) ? entry.state : JobState.FAILED,
    ),
    workerId: entry.workerId,
    executionMs: BigInt(entry.executionMs),
    resultPtr: entry.resultPtr,
    output: entry.output ? fromBase64(entry.output) : new Uint8Array(),
    error: entry.error,
    attempts: entry.attempts.length,
  });
}

/** The job table's record of an entry: the dashboard's view of it. */
export function recordOf(entry: LedgerEntry): JobRecord {
  const output = entry.output ? fromBase64(entry.output) : undefined;
  return {
    jobId: entry.jobId,
    traceId: entry.traceId,
    topic: entry.topic,
    priority: priorityName(entry.priority),
    submitter: entry.submitter,
    contextPtr: entry.contextPtr,
    adapterId: entry.adapterId,
    envVars: entry.envVars,
    payloadBytes: entry.payloadBytes,
    payloadPreview: entry.payloadPreview,
    state: entry.state,
    subject: entry.subject,
    submittedAt: entry.submittedAt,
    dispatchedAt: entry.dispatchedAt,
    finishedAt: entry.finishedAt,
    createdAt: entry.createdAt,
    workerId: entry.workerId,
    executionMs: entry.executionMs,
    resultPtr: entry.resultPtr,
    outputBytes: entry.outputBytes,
    outputPreview: output ? preview(output) : "",
    error: entry.error,
    attempts: entry.attempts,
    maxAttempts: entry.maxAttempts,
    deadLettered: entry.deadLettered,
    retriedByHand: entry.retriedByHand,
    retryable: entry.state === JobState.FAILED ||
        entry.state === JobState.TIMEOUT
      ? retryProblem(entry) === undefined
      : false,
  };
}
