/**
 * The JSON of the dead-letter view and of bulk actions: dead letters
 * grouped by error, discard, `POST /api/jobs/bulk` and the progress of a
 * bulk action. Declared apart from `api.ts` only to keep each file short;
 * `mod.ts` exports it too.
 *
 * @module
 */
import type { JobState } from "./vocabulary.ts";

/** One failed attempt of a dead-lettered job. */
export interface DeadLetterAttempt {
  /** The worker that made it. */
  workerId: string;
  /** How it ended. */
  state: JobState;
  /** Why. */
  error: string;
  /** Epoch ms it ended. */
  at: number;
}

/** A dead-lettered job, as the dead-letter view lists it. */
export interface DeadLetterJob {
  /** The job's id. */
  jobId: string;
  /** Its topic. */
  topic: string;
  /** Epoch ms it was submitted. */
  submittedAt: number;
  /** Epoch ms it was dead-lettered. */
  finishedAt: number | null;
  /** Its final error, as the worker said it. */
  error: string;
  /** Its failed attempts that are remembered (the newest few), oldest first. */
  attempts: DeadLetterAttempt[];
}

/** Dead letters whose errors read the same once numbers and ids are masked. */
export interface DeadLetterGroup {
  /** A short stable id of the normalised error, for the group's routes. */
  id: string;
  /** The normalised error (numbers, ids and hex masked as `#`). */
  error: string;
  /** The newest job's error as it was. */
  sample: string;
  /** Jobs in the group. */
  count: number;
  /** Their topics, sorted. */
  topics: string[];
  /** Epoch ms the newest of them was submitted. */
  newestAt: number;
  /** Epoch ms the oldest of them was submitted. */
  oldestAt: number;
  /** The newest of them, at most `perGroup` (a query parameter). */
  jobs: DeadLetterJob[];
}

/** `GET /api/dead-letters`. */
export interface DeadLettersResponse {
  /** Server clock, epoch ms. */
  serverTime: number;
  /** Dead letters listed (discarded ones are not). */
  total: number;
  /** Largest group first. */
  groups: DeadLetterGroup[];
}

/** How a discard ended: taken off the list, or why not. */
export type DiscardReply =
  | {
    /** Taken off the dead-letter list. */
    status: "discarded";
    /** The job's id. */
    jobId: string;
  }
  | {
    /** No such job (404), not on the list (409), or the ledger out of reach (503). */
    status: "unknown" | "conflict" | "error";
    /** The job's id. */
    jobId: string;
    /** What was wrong and what to do about it. */
    error: string;
  };

/** The actions of `POST /api/jobs/bulk`. */
export const BULK_ACTIONS = ["retry", "cancel"] as const;
/** A bulk action by filter. */
export type BulkActionName = (typeof BULK_ACTIONS)[number];

/** Where a bulk action is. */
export const BULK_STATES = ["running", "stopped", "finished"] as const;
/** Where a bulk action is. */
export type BulkState = (typeof BULK_STATES)[number];

/** The filter of a bulk action; every field given must match. */
export interface BulkFilter {
  /** Any of these states. */
  status?: JobState[];
  /** This topic exactly. */
  topic?: string;
  /** Submitted at or after (epoch ms, or ISO 8601 in a request). */
  since?: number;
  /** Submitted before (epoch ms, or ISO 8601 in a request). */
  until?: number;
  /** The error contains this, any case. */
  error?: string;
  /** On the dead-letter list (true) or not (false). */
  deadLettered?: boolean;
  /** The id starts with this (exact case), as `GET /api/jobs?idPrefix=`. */
  idPrefix?: string;
  /** A worker with this id made an attempt at the job or ended it, as `?worker=`. */
  worker?: string;
  /** Payload, output or error contains this, any case (their first 256 characters), as `?text=`. */
  text?: string;
}

/** The body of `POST /api/jobs/bulk`. */
export interface BulkRequest {
  /** What to do to each job matched. */
  action: BulkActionName;
  /** Which jobs. */
  filter: BulkFilter;
  /** Count only (true), or start the action in the background (false). */
  dryRun: boolean;
}

/** A handle to follow and stop a bulk action. */
export interface BulkHandle {
  /** Its id. */
  id: string;
  /** Where its progress is: `GET` it; `POST` to `<href>/stop` stops it. */
  href: string;
}

/** The answer to a bulk action (and to a dead-letter group's retry or discard). */
export interface BulkResponse {
  /** Jobs the filter matched, in the history now. */
  matched: number;
  /** Whether nothing was done. */
  dryRun: boolean;
  /** The newest matched job ids, at most 10, to show what would be touched. */
  sample: string[];
  /** Present when the action started (not a dry run, and something matched). */
  bulk?: BulkHandle;
}

/** The progress of a bulk action: `GET /api/bulk/:id`. */
export interface BulkProgress {
  /** Its id. */
  id: string;
  /** What it does: `retry`, `cancel`, or `discard` (a dead-letter group). */
  action: string;
  /** The filter it matched by (or the dead-letter group). */
  filter: Record<string, unknown>;
  /** Jobs it acts on. */
  matched: number;
  /** Jobs acted on so far. */
  done: number;
  /** Of them, those the action succeeded on. */
  succeeded: number;
  /** Of them, those it did not (already retried, not in a state for it…). */
  failed: number;
  /** Where it is. */
  state: BulkState;
  /** Epoch ms it started. */
  startedAt: number;
  /** Epoch ms it finished or stopped; `null` while running. */
  finishedAt: number | null;
  /** The first few failures, with why. */
  errors: { jobId: string; error: string }[];
}

/** `GET /api/bulk`: the recent bulk actions, newest first. */
export interface BulkListResponse {
  /** Server clock, epoch ms. */
  serverTime: number;
  /** The most recent bulk actions. */
  actions: BulkProgress[];
}
