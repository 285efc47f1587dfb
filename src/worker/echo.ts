/**
 * The echo job: waits a random time in a range, then returns its input.
 *
 * @module
 */
import type { JobHandler } from "./runtime.ts";

/** Options for {@linkcode echoHandler}. */
export interface EchoOptions {
  /** Shortest work time in ms (default 100); 0 with `maxMs` 0 answers at once. */
  minMs: number;
  /** Longest work time in ms (default 500). */
  maxMs: number;
  /** Random source in [0, 1), for tests. Default `Math.random`. */
  random?: () => number;
}

/**
 * A handler that echoes the job's payload after a uniform random delay.
 *
 * @example
 * ```ts
 * const handler = echoHandler({ minMs: 0, maxMs: 0 });
 * ```
 */
export function echoHandler(options: EchoOptions): JobHandler {
  const { minMs, maxMs, random = Math.random } = options;
  return (job) => {
    const delay = minMs + random() * (maxMs - minMs);
    const done = { status: "completed" as const, output: job.payload };
    if (maxMs <= 0) return done;
    return new Promise((resolve) => setTimeout(() => resolve(done), delay));
  };
}
