/**
 * Retry by hand in durable mode: a job that ended FAILED (dead-lettered or
 * not) or TIMEOUT starts again as new attempts of the same id, its history
 * kept.
 *
 * @module
 */
import { encodePacket, packet } from "../bus/codec.ts";
import { workSubject } from "../bus/durable/layout.ts";
import type { BusPacket } from "../bus/messages.ts";
import type { IntakeParts } from "./intake.ts";
import { type LedgerEntry, requestOf, retryProblem } from "./ledger.ts";
import { retryEntry } from "./ledger_changes.ts";
import type { RetryOutcome } from "./service.ts";
import { clipped, DEFAULT_MAX_JOB_ID_BYTES, utf8Length } from "./validation.ts";

/** Sends an entry's job to its subject (the intake's dispatch). */
export type Dispatch = (
  entry: LedgerEntry,
  message: BusPacket,
  raw: Uint8Array,
) => Promise<void>;

/**
 * Starts `jobId` again on behalf of `by`: a compare-and-set on its ledger
 * entry (DISPATCHED, a new deadline, as many attempts again), then a
 * dispatch of the payload the ledger kept, to the route its topic has now.
 * Of two requests at once one wins; the other is told the job is
 * DISPATCHED. Throws when the ledger or the stream cannot be reached (a job
 * written DISPATCHED whose dispatch was not stored times out, and can be
 * retried again).
 *
 * @example
 * ```ts
 * const outcome = await retryByHand(parts, dispatch, { jobId: "job-1", by: "cli", now: Date.now() });
 * ```
 */
export async function retryByHand(
  parts: IntakeParts,
  dispatch: Dispatch,
  { jobId, by, now }: { jobId: string; by: string; now: number },
): Promise<RetryOutcome> {
  const maxId = parts.limits.maxJobIdBytes ?? DEFAULT_MAX_JOB_ID_BYTES;
  if (utf8Length(jobId) > maxId) {
    // No job was admitted with such an id: not worth a ledger key.
    return {
      status: "unknown",
      jobId: clipped(jobId, maxId),
      reason: `no job has an id over ${maxId} bytes`,
    };
  }
  const held = await parts.ledger.get(jobId);
  if (!held) {
    return {
      status: "unknown",
      jobId,
      reason:
        `the ledger holds no job "${jobId}" (never submitted, or older than CORTEX_HISTORY_MS)`,
    };
  }
  const problem = retryProblem(held.entry);
  if (problem) return { status: "conflict", jobId, reason: problem };
  const subject = parts.strategy.route(requestOf(held.entry));
  const route = parts.route(held.entry.topic).durable
    ? workSubject(subject)
    : subject;
  let fenced: string | undefined;
  const outcome = await parts.ledger.change(jobId, (entry) => {
    fenced = retryProblem(entry);
    return retryEntry(entry, {
      by,
      now,
      subject: route,
      deadline: now + parts.timeoutMs,
    });
  });
  if (!outcome || !outcome.changed) {
    return {
      status: outcome ? "conflict" : "unknown",
      jobId,
      reason: fenced ?? `job ${jobId} changed while it was retried`,
    };
  }
  const { entry } = outcome;
  const request = requestOf(entry);
  const message = packet({ case: "jobRequest", value: request }, {
    traceId: entry.traceId,
    senderId: parts.senderId,
  });
  await dispatch(entry, message, encodePacket(message));
  parts.log.info(
    "job {job_id} retried by hand by {by}: attempts {first} to {max} on {subject} (trace {trace_id})",
    {
      job_id: entry.jobId,
      by,
      first: request.attemptBase + 1,
      max: entry.maxAttempts,
      subject: entry.subject,
      trace_id: entry.traceId,
    },
  );
  return {
    status: "retried",
    jobId,
    subject: entry.subject,
    firstAttempt: request.attemptBase + 1,
    maxAttempts: entry.maxAttempts,
  };
}
