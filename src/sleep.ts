/**
 * Waiting that cancellation cuts short.
 *
 * @module
 */

/**
 * Resolves after `ms`, or at once when `signal` aborts (it never rejects:
 * the caller checks `signal.aborted`).
 *
 * @example
 * ```ts
 * await sleep(1_000, controller.signal);
 * if (controller.signal.aborted) return;
 * ```
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
