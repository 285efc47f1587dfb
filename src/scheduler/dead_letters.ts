/**
 * Dead letters: jobs that failed every attempt they were allowed, grouped
 * by their error with numbers and ids masked (so "timeout after 5012 ms"
 * and "timeout after 4980 ms" are one group), read from the history index
 * so the list covers everything the ledger holds; and discard, which takes
 * a job off the list by a compare-and-set on its ledger entry, so it stays
 * off after a restart.
 *
 * @module
 */
import type { DeadLetterGroup, DeadLetterJob } from "../contract/mod.ts";
import { JobState } from "../contract/mod.ts";
import type { JobHistory } from "./job_history.ts";
import type { LedgerEntry } from "./ledger.ts";
import type { LedgerStore } from "./ledger_store.ts";
import type { DiscardOutcome } from "./service.ts";

/** Characters of a normalised error kept: enough to tell errors apart. */
const GROUP_ERROR_CHARS = 160;
/** Jobs read from the history per page while grouping. */
const PAGE = 1000;

/**
 * The error with what varies from job to job masked: UUIDs, hex runs of 8
 * or more, and numbers become `#`; whitespace is collapsed, case ignored.
 *
 * @example
 * ```ts
 * normaliseError("Timeout after 5012 ms"); // "timeout after # ms"
 * ```
 */
export function normaliseError(error: string): string {
  return error
    .toLowerCase()
    .replace(
      /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
      "#",
    )
    .replace(/\b(0x)?[0-9a-f]{8,}\b/g, "#")
    .replace(/\d+(\.\d+)?/g, "#")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, GROUP_ERROR_CHARS);
}

/**
 * A short id of a normalised error (FNV-1a, 32 bits, hex), for URLs.
 *
 * @example
 * ```ts
 * groupId(normaliseError("disk full")).length; // 8
 * ```
 */
export function groupId(normalised: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < normalised.length; i++) {
    hash ^= normalised.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/** One group as it is being gathered. */
interface Gathering {
  group: DeadLetterGroup;
  topics: Set<string>;
  jobIds: string[];
}

/** Every group and the ids of its jobs, newest first. */
export interface DeadLetters {
  /** Dead letters listed. */
  total: number;
  /** Largest group first. */
  groups: DeadLetterGroup[];
  /** Each group's job ids, by group id, newest first. */
  jobIds: Map<string, string[]>;
}

/**
 * The dead letters the history holds, grouped by normalised error, with at
 * most `perGroup` jobs (and their remembered attempts) listed in each.
 *
 * @example
 * ```ts
 * const { groups } = deadLetters(history, 20);
 * ```
 */
export function deadLetters(
  history: JobHistory,
  perGroup: number,
): DeadLetters {
  const byError = new Map<string, Gathering>();
  let total = 0;
  let cursor: [number, string] | undefined;
  // Bounded: each page moves the cursor back; the history is bounded.
  for (;;) {
    const page = history.search({ deadLettered: true }, PAGE, cursor);
    for (const job of page.jobs) {
      total++;
      const error = normaliseError(job.error);
      let g = byError.get(error);
      if (!g) {
        g = {
          group: {
            id: groupId(error),
            error,
            sample: job.error,
            count: 0,
            topics: [],
            newestAt: job.submittedAt,
            oldestAt: job.submittedAt,
            jobs: [],
          },
          topics: new Set(),
          jobIds: [],
        };
        byError.set(error, g);
      }
      g.group.count++;
      g.topics.add(job.topic);
      g.group.oldestAt = job.submittedAt; // newest first: the last is the oldest
      g.jobIds.push(job.jobId);
      if (g.group.jobs.length < perGroup) {
        const listed: DeadLetterJob = {
          jobId: job.jobId,
          topic: job.topic,
          submittedAt: job.submittedAt,
          finishedAt: job.finishedAt,
          error: job.error,
          attempts: history.attemptErrors(job.jobId).map((a) => ({
            workerId: a.workerId,
            state: a.state,
            error: a.error,
            at: a.at,
          })),
        };
        g.group.jobs.push(listed);
      }
    }
    if (page.nextCursor === null || page.jobs.length === 0) break;
    const last = page.jobs[page.jobs.length - 1];
    cursor = [last.submittedAt, last.jobId];
  }
  const groups: DeadLetterGroup[] = [];
  const jobIds = new Map<string, string[]>();
  for (const g of byError.values()) {
    g.group.topics = [...g.topics].sort();
    groups.push(g.group);
    jobIds.set(g.group.id, g.jobIds);
  }
  groups.sort((a, b) => b.count - a.count || b.newestAt - a.newestAt);
  return { total, groups, jobIds };
}

/**
 * The entry taken off the dead-letter list by `by` at `now`, or
 * `undefined` when it is not on it (not dead-lettered, or discarded).
 */
export function discardEntry(
  entry: LedgerEntry,
  by: string,
  now: number,
): LedgerEntry | undefined {
  if (
    !entry.deadLettered || entry.discarded || entry.state !== JobState.FAILED
  ) {
    return undefined;
  }
  return { ...entry, discarded: { at: now, by }, change: "discarded" };
}

/**
 * Takes `jobId` off the dead-letter list in `ledger`. Of two requests at
 * once one wins; the other is told it is not on the list. Rejects when the
 * ledger cannot be reached.
 *
 * @example
 * ```ts
 * await discardDeadLetter(ledger, { jobId: "job-1", by: "dashboard", now: Date.now() });
 * ```
 */
export async function discardDeadLetter(
  ledger: Pick<LedgerStore, "change">,
  { jobId, by, now }: { jobId: string; by: string; now: number },
): Promise<DiscardOutcome> {
  const outcome = await ledger.change(
    jobId,
    (entry) => discardEntry(entry, by, now),
  );
  if (!outcome) {
    return {
      status: "unknown",
      jobId,
      reason:
        `the ledger holds no job "${jobId}" (never submitted, or older than CORTEX_HISTORY_MS)`,
    };
  }
  if (!outcome.changed) {
    return {
      status: "conflict",
      jobId,
      reason: outcome.entry.discarded
        ? `job ${jobId} was discarded already`
        : `job ${jobId} is ${outcome.entry.state}, not on the dead-letter list`,
    };
  }
  return { status: "discarded", jobId };
}
