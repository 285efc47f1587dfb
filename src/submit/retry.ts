/**
 * `deno task submit --retry <id>`: asks a scheduler, through a request on
 * `sys.job.retry`, to start a job that ended FAILED (dead-lettered or not)
 * or TIMEOUT again as new attempts of the same id. One replica answers,
 * with the rules and words of `POST /api/jobs/:id/retry`.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { RETRY } from "../bus/subjects.ts";
import type { RetryReply } from "../contract/mod.ts";

/** How long to wait for a scheduler's answer: a ledger read, a write and a stored publish. */
export const RETRY_TIMEOUT_MS = 10_000;

/**
 * Sends the request and prints the answer (text, or one JSON object).
 * Returns the exit code: 0 started again, 1 refused (unknown job, not in a
 * final failed state, core mode), 2 no scheduler answered.
 *
 * @example
 * ```ts
 * Deno.exitCode = await retryByHand(nc, "job-1", { json: false, by: "cortex-submit" });
 * ```
 */
export async function retryByHand(
  nc: NatsConnection,
  jobId: string,
  options: { json: boolean; by: string },
): Promise<number> {
  let reply: RetryReply;
  try {
    const msg = await nc.request(
      RETRY,
      JSON.stringify({ jobId, by: options.by }),
      { timeout: RETRY_TIMEOUT_MS },
    );
    reply = msg.json<RetryReply>();
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    console.error(
      `submit: no scheduler answered the retry of ${jobId} on ${RETRY} (${why}): is one running on this NATS server?`,
    );
    return 2;
  }
  if (options.json) console.log(JSON.stringify(reply));
  else if (reply.status === "retried") {
    console.log(
      `${reply.jobId} retried: attempts ${reply.firstAttempt} to ${reply.maxAttempts} on ${reply.subject}`,
    );
  } else {
    console.error(`submit: cannot retry ${reply.jobId}: ${reply.error}`);
  }
  return reply.status === "retried" ? 0 : reply.status === "error" ? 2 : 1;
}
