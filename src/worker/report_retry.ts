/**
 * How a durable worker stores one attempt report: tried again, a while
 * apart, until the attempt stream has stored it or the pauses run out.
 *
 * @module
 */
import { errorMessage } from "../log.ts";

/**
 * The pauses between tries to store one attempt report before its job is
 * handed back instead, in ms (about 10 s in all): a report outlasts a
 * cluster's attempt stream being without a leader (nats-server 2.9 elects
 * a new one 4-9 s after its leader's node dies), rather than being given
 * up in 0.75 s (three tries) and its job run again after the ack wait.
 */
export const REPORT_PAUSES_MS: readonly number[] = [
  250,
  500,
  1_000,
  2_000,
  2_000,
  2_000,
  2_000,
];

/**
 * Calls `store` until it resolves, pausing `pauses` between tries and
 * telling `warn` of each failure; whether it was stored in the end.
 *
 * @example
 * ```ts
 * const stored = await storeReport(() => queue.report(bytes, id), REPORT_PAUSES_MS, console.warn);
 * ```
 */
export async function storeReport(
  store: () => Promise<void>,
  pauses: readonly number[],
  warn: (tried: number, tries: number, error: string) => void,
): Promise<boolean> {
  for (let tried = 1;; tried++) {
    try {
      await store();
      return true;
    } catch (error) {
      warn(tried, pauses.length + 1, errorMessage(error));
      if (tried > pauses.length) return false;
      await new Promise((resolve) => setTimeout(resolve, pauses[tried - 1]));
    }
  }
}
