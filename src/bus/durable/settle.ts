/**
 * JetStream that is up but not yet ready: right after a server or cluster
 * starts (or a node returns), requests time out or are answered "jetstream
 * is not enabled" until the stream and meta leaders are elected. Setup steps
 * retry through that instead of failing the process.
 *
 * @module
 */
import { NoRespondersError, TimeoutError } from "@nats-io/nats-core";
import { errorMessage, type Logger } from "../../log.ts";

/** Whether `error` is JetStream not being ready yet, rather than a real refusal. */
export function isNotReady(error: unknown): boolean {
  return error instanceof TimeoutError ||
    error instanceof NoRespondersError ||
    (error instanceof Error && (
      error.name === "JetStreamNotEnabled" ||
      /timeout|no suitable peers|leader|not enabled/i.test(error.message)
    ));
}

/**
 * Runs `step` until it succeeds, retrying (250 ms, doubling to 2 s) while
 * JetStream is not ready, for at most `timeoutMs` (default 60,000); says
 * once in `log` what it waits for. Any other error is thrown at once.
 *
 * @example
 * ```ts
 * await whenReady("make the streams", () => ensureStreams(jsm, settings), log);
 * ```
 */
export async function whenReady<T>(
  what: string,
  step: () => Promise<T>,
  log: Logger,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let waitMs = 250;
  let said = false;
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (!isNotReady(error) || Date.now() + waitMs > until) throw error;
      if (!said) {
        log.warn("JetStream is not ready to {what} yet ({error}); retrying", {
          what,
          error: errorMessage(error),
        });
        said = true;
      }
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      waitMs = Math.min(2_000, waitMs * 2);
    }
  }
}
