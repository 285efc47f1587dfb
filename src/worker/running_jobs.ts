/**
 * The abort controllers of the jobs a worker runs: a cancel notice aborts
 * one job's (and its outcome is then not reported), a stop past its grace
 * aborts every one's, and those of jobs started after (their outcomes are
 * reported). Each job's handler gets its controller's signal as it is,
 * not one combined per job with the worker's own (`AbortSignal.any`, and
 * a getter to make it only when read, cost the echo worker's hot path).
 * Shared by the core and the durable ways of taking jobs.
 *
 * @module
 */
import { cancelledError } from "./job.ts";

/**
 * Running jobs by id.
 *
 * @example
 * ```ts
 * const running = new RunningJobs();
 * const control = running.start();
 * running.add("job-1", control);
 * running.cancel("job-1"); // true: aborted, running.cancelled(control)
 * ```
 */
export class RunningJobs {
  readonly #controls = new Map<string, AbortController>();
  /** Controllers a cancel notice aborted (few): their outcomes are dropped. */
  readonly #cancelled = new WeakSet<AbortController>();
  #aborted = false;
  #reason: unknown;

  /** A job's controller, aborted already when {@linkcode RunningJobs.abortAll} was called. */
  start(): AbortController {
    const control = new AbortController();
    if (this.#aborted) control.abort(this.#reason);
    return control;
  }

  /** Holds `control` as `jobId`'s, so a cancel notice reaches it. */
  add(jobId: string, control: AbortController): void {
    this.#controls.set(jobId, control);
  }

  /** Forgets `jobId`'s controller: the job ended. */
  delete(jobId: string): void {
    this.#controls.delete(jobId);
  }

  /** Aborts `jobId`'s signal, if it runs, as cancelled; whether it runs. */
  cancel(jobId: string): boolean {
    const control = this.#controls.get(jobId);
    if (!control) return false;
    this.#cancelled.add(control);
    control.abort(cancelledError(jobId));
    return true;
  }

  /** Whether a cancel notice aborted `control`'s job. */
  cancelled(control: AbortController): boolean {
    return this.#cancelled.has(control);
  }

  /** Aborts, with `reason`, every job's signal, and those of jobs started from now on. */
  abortAll(reason: unknown): void {
    this.#aborted = true;
    this.#reason = reason;
    for (const control of this.#controls.values()) control.abort(reason);
  }
}
