// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * The ledger entry: what durable mode keeps of one job in the KV bucket
 * (`LEDGER_BUCKET`, key `ledgerKey(id)`), its JSON codec, and what is read
 * off it: the request to dispatch, the result to publish, the job table's
 * record. The changes made to it are in `ledger_changes.ts`.
 *
 * @module
 */
import { create } from "npm:@bufbuild/protobuf@^2.17.0";
import {
  JobRequestSchema,
  JobResultSchema,
} from "../gen/cortex/v1/cortex_pb.ts";
import type { JobRequest, JobResult } from "../bus/messages.ts";
import {
  type FinalState,
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
  | "retried"
  | "discarded";

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
  /**
   * Taken off the dead-letter list by hand (it stays dead-lettered for the
   * counters); absent when not, and cleared by a retry by hand.
   */
  discarded?: Discard;
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

/** A dead letter taken off the list by hand: when, and who asked. */
export interface Discard {
  /** Epoch ms. */
  at: number;
  /** Who asked (the dashboard). */
  by: string;
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

/** Bytes as base64, for the entry's JSON. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The bytes of {@linkcode toBase64}'s text. */
export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** The first {@linkcode PREVIEW_BYTES} bytes as text, for display. */
export function preview(bytes: Uint8Array): string {
  return bytes.length === 0
    ? ""
    : decoder.decode(bytes.subarray(0, PREVIEW_BYTES));
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
    // Set even when absent: the job table assigns a record over the one it
    // holds, and a retry's clearing must reach it.
    discarded: entry.discarded,
    retriedByHand: entry.retriedByHand,
    retryable: entry.state === JobState.FAILED ||
        entry.state === JobState.TIMEOUT
      ? retryProblem(entry) === undefined
      : false,
  };
}
