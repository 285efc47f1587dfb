/**
 * The echo job: waits a random time in a range, then returns its input, or
 * fails now and then when asked to (to watch retries and dead letters).
 * An SDK handler, like any user's (`deno task worker:echo` serves it with
 * `cortex.worker`).
 *
 * @module
 */
import type { Handler, Job } from "../sdk/types.ts";

export type { Handler, Job, JobPriority } from "../sdk/types.ts";

/** Options for {@linkcode echoJob}. */
export interface EchoOptions {
  /** Shortest work time in ms (default 100); 0 with `maxMs` 0 answers at once. */
  minMs: number;
  /** Longest work time in ms (default 500). */
  maxMs: number;
  /**
   * The chance, from 0 to 1, that an attempt fails with "simulated failure"
   * after its work time. Default 0.
   */
  failRate?: number;
  /** Random source in [0, 1), for tests. Default `Math.random`. */
  random?: () => number;
}

/** The error of an attempt that {@linkcode EchoOptions.failRate} made fail. */
export const SIMULATED_FAILURE = "simulated failure";

/**
 * A handler that echoes the job's payload after a uniform random delay.
 * With `maxMs` 0 it answers at once, without a promise: the worker
 * reports it in the same turn (the benchmark's hot path).
 *
 * @example
 * ```ts
 * await cortex.worker("job.echo", echoJob({ minMs: 0, maxMs: 0 }));
 * ```
 */
export function echoJob(options: EchoOptions): Handler {
  const { minMs, maxMs, failRate = 0, random = Math.random } = options;
  return (job: Job) => {
    const delay = minMs + random() * (maxMs - minMs);
    // Drawn only when failures are asked for, so a test's random source
    // sees the same sequence as before for the work time.
    const fails = failRate > 0 && random() < failRate;
    const done = () => {
      if (fails) throw new Error(SIMULATED_FAILURE);
      return job.payload;
    };
    if (maxMs <= 0) return done();
    // Ends early when the job is cancelled (its signal aborted): a
    // cancelled echo does not hold its slot for the rest of its delay.
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, delay);
      job.signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(job.signal.reason);
      }, { once: true });
    }).then(done);
  };
}
