/**
 * Cancel by hand in durable mode: a compare-and-set of the job's ledger
 * entry to CANCELLED, then the one result on `sys.job.result` and the
 * notice to the workers. docs/durability.md tells how a job still in the
 * work stream is then skipped.
 *
 * @module
 */
import type { Bus } from "../bus/bus.ts";
import { packet } from "../bus/codec.ts";
import { RESULT } from "../bus/subjects.ts";
import { isFinal } from "../contract/mod.ts";
import type { Logger } from "../log.ts";
import {
  cancelError,
  cancelled,
  type ControlNotices,
  finalJob,
  unknownJob,
} from "./actions.ts";
import { resultOf } from "./ledger.ts";
import { cancelEntry } from "./ledger_changes.ts";
import type { LedgerStore } from "./ledger_store.ts";
import type { ActionResult } from "./service.ts";

/** What {@linkcode cancelByHand} acts through. */
export interface CancelParts {
  /** The job ledger. */
  ledger: LedgerStore;
  /** Core NATS, for the result. */
  bus: Bus;
  /** The notices to workers. */
  control: ControlNotices;
  /** This scheduler's sender id. */
  senderId: string;
  /** Where it says what it did. */
  log: Logger;
}

/**
 * Cancels `jobId` on behalf of `by`. Of a cancel and a worker's last
 * attempt report at once, the compare-and-set lets one win: a report
 * after the cancel is fenced (and nothing of it published), a cancel
 * after the report is a `conflict`. Rejects when the ledger cannot be
 * reached.
 *
 * @example
 * ```ts
 * const outcome = await cancelByHand(parts, { jobId: "job-1", by: "dashboard", now: Date.now() });
 * ```
 */
export async function cancelByHand(
  parts: CancelParts,
  { jobId, by, now }: { jobId: string; by: string; now: number },
): Promise<ActionResult> {
  const held = await parts.ledger.get(jobId);
  if (!held) return unknownJob(jobId);
  if (isFinal(held.entry.state)) return finalJob(jobId, held.entry.state);
  const outcome = await parts.ledger.change(
    jobId,
    (entry) => cancelEntry(entry, now, cancelError(by)),
  );
  if (!outcome) return unknownJob(jobId);
  const { entry } = outcome;
  if (!outcome.changed) return finalJob(jobId, entry.state);
  parts.control.cancelled(jobId);
  parts.bus.publish(
    RESULT,
    packet({ case: "jobResult", value: resultOf(entry) }, {
      traceId: entry.traceId,
      senderId: parts.senderId,
    }),
  );
  parts.log.info("job {job_id} cancelled by {by} (trace {trace_id})", {
    job_id: jobId,
    by,
    trace_id: entry.traceId,
  });
  return cancelled(jobId, by);
}
