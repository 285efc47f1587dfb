/**
 * The operator's actions on one job or worker, as both engines take them:
 * cancel a job, drain or resume a worker. What they say on the bus
 * (`sys.cancel`, `sys.drain`) and the words of their refusals live here,
 * so core and durable mode answer alike.
 *
 * @module
 */
import type { Bus } from "../bus/bus.ts";
import { cancelNotice, drainAsked, drainNotice } from "../bus/control.ts";
import { CANCEL, DRAIN } from "../bus/subjects.ts";
import { JobState } from "../contract/mod.ts";
import { RECENT_CANCELS } from "../bus/control.ts";
import type { Logger } from "../log.ts";
import type { WorkerRegistry } from "./registry.ts";
import type { ActionResult, JobsView, SchedulerObserver } from "./service.ts";

/**
 * The answer to a worker's `sys.cancelled` request: the ids of the
 * CANCELLED jobs the table holds, newest first, at most
 * {@linkcode RECENT_CANCELS} (what a worker remembers).
 *
 * @example
 * ```ts
 * msg.respond(JSON.stringify(cancelledList(scheduler.jobs)));
 * ```
 */
export function cancelledList(jobs: JobsView): { jobIds: string[] } {
  return {
    jobIds: jobs.recent(RECENT_CANCELS, (r) => r.state === JobState.CANCELLED)
      .map((r) => r.jobId),
  };
}

/** The answer for a job id the scheduler does not hold. */
export function unknownJob(jobId: string): ActionResult {
  return {
    status: "unknown",
    id: jobId,
    reason:
      `no job "${jobId}" is held (never submitted, or older than the history kept)`,
  };
}

/** The answer for a job that is final already: a cancel cannot undo it. */
export function finalJob(jobId: string, state: JobState): ActionResult {
  return {
    status: "conflict",
    id: jobId,
    reason:
      `job ${jobId} is ${state} already: only a job not yet final (pending, dispatched, running or waiting for a retry) can be cancelled`,
  };
}

/** The answer of a cancel that took. */
export function cancelled(jobId: string, by: string): ActionResult {
  return { status: "ok", id: jobId, detail: `cancelled by ${by}` };
}

/** The error a cancelled job keeps: who cancelled it. */
export function cancelError(by: string): string {
  return `cancelled by ${by}`;
}

/** What {@linkcode ControlNotices} needs. */
export interface ControlOptions {
  /** Core NATS. */
  bus: Bus;
  /** This scheduler's sender id. */
  senderId: string;
  /** The workers, marked draining as notices are heard. */
  registry: WorkerRegistry;
  /** Told when a worker's state changes by a notice. */
  observers: ReadonlySet<SchedulerObserver>;
  /** Where it says what it did. */
  log: Logger;
}

/**
 * The notices a scheduler sends workers: a cancelled job, a worker to
 * drain or resume. Every replica listens to the drain notices, so each
 * shows the worker draining whichever replica sent it.
 *
 * @example
 * ```ts
 * const control = new ControlNotices({ bus, senderId, registry, observers, log });
 * const sub = control.listen();
 * control.cancelled("job-1");
 * ```
 */
export class ControlNotices {
  readonly #o: ControlOptions;

  /** Notices over `options`' bus. */
  constructor(options: ControlOptions) {
    this.#o = options;
  }

  /** Hears drain notices (every replica's) and marks the workers. */
  listen(): { unsubscribe(): void } {
    return this.#o.bus.subscribe(DRAIN, (message) => {
      const asked = drainAsked(message);
      if (!asked) return;
      const worker = this.#o.registry.setDraining(
        asked.workerId,
        asked.ask === "drain",
      );
      if (!worker) return;
      for (const o of this.#o.observers) o.workerChanged?.(worker);
    });
  }

  /** Tells every worker `jobId` is cancelled: whoever holds it drops or aborts it. */
  cancelled(jobId: string): void {
    this.#o.bus.publish(CANCEL, cancelNotice(jobId, this.#o.senderId));
  }

  /**
   * Asks `workerId` to drain (or resume). A worker the registry does not
   * know, or one offline, is `unknown`; one draining already (or not
   * draining, for a resume) is `conflict`.
   */
  async drain(
    workerId: string,
    { resume = false }: { resume?: boolean } = {},
  ): Promise<ActionResult> {
    const worker = this.#o.registry.get(workerId);
    if (!worker || worker.state === "offline") {
      return {
        status: "unknown",
        id: workerId,
        reason: worker
          ? `worker ${workerId} is offline: there is nothing to drain; it is forgotten in a few minutes`
          : `no worker "${workerId}" is known (never seen, or forgotten after going offline)`,
      };
    }
    const draining = worker.state === "draining";
    if (draining !== resume) {
      return {
        status: "conflict",
        id: workerId,
        reason: resume
          ? `worker ${workerId} is not draining: nothing to resume`
          : `worker ${workerId} is draining already`,
      };
    }
    this.#o.bus.publish(
      DRAIN,
      drainNotice(workerId, resume ? "resume" : "drain", this.#o.senderId),
    );
    await this.#o.bus.flush();
    this.#o.log.info(
      `worker {worker_id} asked to ${resume ? "resume" : "drain"}`,
      {
        worker_id: workerId,
      },
    );
    return {
      status: "ok",
      id: workerId,
      detail: resume
        ? "asked to resume: it takes jobs again"
        : "asked to drain: it finishes the jobs it holds and takes no new ones",
    };
  }
}
