/**
 * Retry by hand, as `POST /api/jobs/:id/retry` and `sys.job.retry` both
 * answer it: the same rules and words whichever way it is asked.
 *
 * @module
 */
import type { RetryReply } from "../contract/mod.ts";
import type { SchedulerService } from "./service.ts";
import { clipped, MAX_PACKET_ID_BYTES } from "./validation.ts";

/** The HTTP status of each reply: 200, 404 (unknown), 409 (conflict), 503 (error). */
export function retryHttpStatus(reply: RetryReply): 200 | 404 | 409 | 503 {
  switch (reply.status) {
    case "retried":
      return 200;
    case "unknown":
      return 404;
    case "conflict":
      return 409;
    case "error":
      return 503;
  }
}

/** What core mode answers: the ledger that keeps payloads and attempts is durable mode's. */
export const RETRY_NEEDS_DURABLE =
  "retry needs durable mode: this scheduler runs in core mode (CORTEX_DURABILITY=none, or auto without JetStream), which keeps no payloads or attempts to start a job again from; submit the job anew";

/**
 * Asks `scheduler` to start `jobId` again on behalf of `by`. Never rejects:
 * a ledger or stream that cannot be reached is an `error` reply.
 *
 * @example
 * ```ts
 * const reply = await retryJob(scheduler, "job-1", "dashboard");
 * return c.json(reply, retryHttpStatus(reply));
 * ```
 */
export async function retryJob(
  scheduler: SchedulerService,
  jobId: string,
  by: string,
): Promise<RetryReply> {
  if (!scheduler.durable) {
    return { status: "conflict", jobId, error: RETRY_NEEDS_DURABLE };
  }
  try {
    const outcome = await scheduler.durable.retry(jobId, by);
    if (outcome.status === "retried") return outcome;
    return { status: outcome.status, jobId, error: outcome.reason };
  } catch (error) {
    return {
      status: "error",
      jobId,
      error: `cannot retry job ${jobId} now: ${
        error instanceof Error ? error.message : String(error)
      }; try again once NATS is reachable`,
    };
  }
}

/**
 * The job id of a `sys.job.retry` request body (JSON `{"jobId": "…"}`,
 * with who asks as `by` if it likes), or what is wrong with it.
 */
export function parseRetryRequest(
  body: Uint8Array,
): { jobId: string; by?: string } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return { error: 'the request is not JSON; send {"jobId": "<id>"}' };
  }
  const { jobId, by } = (parsed ?? {}) as { jobId?: unknown; by?: unknown };
  if (typeof jobId !== "string" || jobId === "") {
    return { error: 'the request has no jobId; send {"jobId": "<id>"}' };
  }
  // Who asked is kept with the job: bounded like a packet's sender id.
  return typeof by === "string" && by !== ""
    ? { jobId, by: clipped(by, MAX_PACKET_ID_BYTES) }
    : { jobId };
}
