/**
 * The worker runtime: takes jobs (from a queue group in core mode, from its
 * topic's work queue in durable mode), runs them with bounded concurrency,
 * reports results, heartbeats, and drains on shutdown.
 *
 * A job type is just a {@linkcode JobHandler}; the echo worker is one.
 *
 * @module
 */
import { JobStatus } from "../gen/cortex/v1/cortex_pb.ts";
import type { BusPacket, JobRequest } from "../bus/messages.ts";
import type { Bus } from "../bus/bus.ts";
import { packet } from "../bus/codec.ts";
import {
  CANCEL,
  DRAIN,
  RESULT,
  ROLL_CALL,
  workerQueue,
} from "../bus/subjects.ts";
import { cancelledJob, CancelledJobs, drainAsked } from "../bus/control.ts";
import { WORK_STREAM, workConsumer } from "../bus/durable/layout.ts";
import type { Logger } from "../log.ts";
import { DurableFeed } from "./durable.ts";
import type { DurableWorkerOptions } from "./durable_options.ts";
import { HeartbeatSender } from "./heartbeat.ts";
import { RunningJobs } from "./running_jobs.ts";
import {
  failure,
  isPromise,
  type JobHandler,
  type JobOutcome,
  jobResult,
} from "./job.ts";

export type { JobHandler, JobOutcome } from "./job.ts";

export type { DurableWorkerOptions } from "./durable_options.ts";

/** Options for {@linkcode Worker}. */
export interface WorkerOptions {
  /** The bus jobs arrive on and results and heartbeats leave by. */
  bus: Bus;
  /** Where it says what happened. */
  log: Logger;
  /** Runs each job. */
  handler: JobHandler;
  /** Unique id of this worker. */
  workerId: string;
  /** The pool (`echo`): queue group `workers-<pool>`, heartbeat `sys.heartbeat.<pool>`. */
  pool: string;
  /** The subject jobs arrive on (`job.echo`). */
  topic: string;
  /** Where it runs, reported in heartbeats. */
  region: string;
  /** Its kind (`echo`), reported in heartbeats. */
  type: string;
  /** What it can do, reported in heartbeats. */
  capabilities: string[];
  /** Jobs run at once; the rest wait in arrival order. Default 1. */
  concurrency?: number;
  /** Heartbeat interval in ms. Default 5,000. */
  heartbeatMs?: number;
  /**
   * Durable mode: jobs come from this work queue instead of a queue
   * subscription on `topic`, each attempt is reported there, and no result
   * goes to `sys.job.result` (the scheduler publishes the final one).
   */
  durable?: DurableWorkerOptions;
}

/**
 * A worker: a heartbeat, and one queue-group subscription (core mode) or a
 * {@linkcode DurableFeed} on its topic's work queue (durable mode).
 *
 * @example
 * ```ts
 * const worker = new Worker({ bus, log, handler, workerId, pool: "echo", topic: "job.echo", ... });
 * await worker.start();
 * await worker.stop();
 * ```
 */
export class Worker {
  readonly #o: WorkerOptions;
  readonly #concurrency: number;
  readonly #queue: BusPacket[] = [];
  #active = 0;
  #subscription?: { unsubscribe(): void };
  #beat?: ReturnType<typeof setInterval>;
  #rollCall?: { unsubscribe(): void };
  #control: { unsubscribe(): void }[] = [];
  /** Jobs cancelled on `sys.cancel`: never started if they come later. */
  readonly #cancels = new CancelledJobs();
  /** Core mode: the abort controller of each job running now. */
  readonly #running = new RunningJobs();
  #draining = false;
  /** When a roll call was last answered (performance.now()): at most 4 a second. */
  #answeredAt = -Infinity;
  #idle?: () => void;
  #feed?: DurableFeed;
  #stopped = false;
  #completed = 0;
  #failed = 0;
  readonly #beats: HeartbeatSender;

  /** A worker over `options`; it does nothing until {@linkcode Worker.start}. */
  constructor(options: WorkerOptions) {
    this.#o = options;
    this.#concurrency = Math.max(1, options.concurrency ?? 1);
    this.#beats = new HeartbeatSender({
      ...options,
      concurrency: this.#concurrency,
      durable: options.durable !== undefined,
    });
  }

  /** Jobs running now. */
  get active(): number {
    return this.#feed?.active ?? this.#active;
  }

  /**
   * Subscribes to the topic and sends the first heartbeat at once; resolves
   * when the server has the subscription, so jobs published after it arrive.
   *
   * In durable mode it sends the first heartbeat and starts the feed, which
   * waits for the work stream if there is none yet (logging so) and says
   * `taking <topic>` once it serves; this resolves without waiting for it.
   */
  async start(): Promise<void> {
    const { bus, topic, pool, durable } = this.#o;
    if (durable) {
      this.#feed = new DurableFeed({
        ...durable,
        log: this.#o.log,
        handler: this.#o.handler,
        workerId: this.#o.workerId,
        topic,
        concurrency: this.#concurrency,
        cancels: this.#cancels,
        onAttempt: (result) => {
          if (result.status === JobStatus.COMPLETED) this.#completed++;
          else this.#failed++;
        },
      });
      this.#feed.start().then(() => {
        if (!this.#feed || this.#stopped) return;
        this.#o.log.info(
          "worker {worker_id} taking {topic} from stream {stream} (consumer {consumer}), {concurrency} at a time",
          {
            worker_id: this.#o.workerId,
            topic,
            stream: WORK_STREAM,
            consumer: workConsumer(topic),
            concurrency: this.#concurrency,
          },
        );
      });
    } else {
      this.#subscription = bus.subscribe(
        topic,
        (message) => this.#accept(message),
        {
          queue: workerQueue(pool),
        },
      );
    }
    // A scheduler that starts calls the roll: answer with a heartbeat now,
    // but at most every 250 ms, so a flood of calls cannot make a flood of
    // heartbeats (every scheduler hears each answer). Not counted from the
    // last heartbeat: that one may have gone out before the caller listened.
    this.#rollCall = bus.subscribe(ROLL_CALL, () => {
      const now = performance.now();
      if (this.#stopped || now - this.#answeredAt < 250) return;
      this.#answeredAt = now;
      this.#heartbeat(false);
    });
    this.#control = [
      bus.subscribe(CANCEL, (message) => {
        const jobId = cancelledJob(message);
        if (jobId !== undefined) this.#cancel(jobId);
      }),
      bus.subscribe(DRAIN, (message) => {
        const asked = drainAsked(message);
        if (asked?.workerId !== this.#o.workerId) return;
        if (asked.ask === "drain") this.drain();
        else this.resume();
      }),
    ];
    this.#heartbeat(false);
    this.#beat = setInterval(
      () => this.#heartbeat(false),
      this.#o.heartbeatMs ?? 5_000,
    );
    await bus.flush();
    if (durable) return;
    this.#o.log.info(
      "worker {worker_id} taking {topic} in queue group {queue}, {concurrency} at a time",
      {
        worker_id: this.#o.workerId,
        topic,
        queue: workerQueue(pool),
        concurrency: this.#concurrency,
      },
    );
  }

  /**
   * Stops taking jobs, finishes the ones accepted (running or waiting), then
   * says it is leaving with a last heartbeat.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#rollCall?.unsubscribe();
    for (const sub of this.#control) sub.unsubscribe();
    this.#control = [];
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    if (this.#feed) {
      if (this.#feed.active > 0) {
        this.#o.log.info("finishing {count} jobs in flight", {
          count: this.#feed.active,
        });
      }
      await this.#feed.stop();
    } else if (this.#active > 0 || this.#queue.length > 0) {
      this.#o.log.info("finishing {count} jobs in flight", {
        count: this.#active + this.#queue.length,
      });
      await new Promise<void>((resolve) => this.#idle = resolve);
    }
    clearInterval(this.#beat);
    this.#heartbeat(true);
    this.#o.log.info(
      "worker {worker_id} left: {completed} completed, {failed} failed",
      {
        worker_id: this.#o.workerId,
        completed: this.#completed,
        failed: this.#failed,
      },
    );
  }

  /**
   * Aborts the signal of every job running now and of every job started
   * from now on, with `reason` (a stop past its grace); their outcomes are
   * still reported, unlike a cancelled job's.
   */
  abortJobs(reason: unknown): void {
    this.#running.abortAll(reason);
    this.#feed?.abortJobs(reason);
  }

  /** Whether it was asked to drain and not resumed since. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Finishes the jobs it holds and takes nothing new (core: it leaves its
   * queue group; durable: it stops pulling) until {@linkcode Worker.resume}
   * or {@linkcode Worker.stop}. Heartbeats go on.
   */
  drain(): void {
    if (this.#draining || this.#stopped) return;
    this.#draining = true;
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    this.#feed?.pause();
    this.#o.log.info(
      "worker {worker_id} draining: finishing {count} jobs, taking no new ones",
      { worker_id: this.#o.workerId, count: this.active + this.#queue.length },
    );
  }

  /** Takes jobs again after {@linkcode Worker.drain}. */
  resume(): void {
    if (!this.#draining || this.#stopped) return;
    this.#draining = false;
    if (this.#feed) this.#feed.resume();
    else {
      this.#subscription = this.#o.bus.subscribe(
        this.#o.topic,
        (message) => this.#accept(message),
        { queue: workerQueue(this.#o.pool) },
      );
    }
    this.#o.log.info("worker {worker_id} resumed: taking {topic} again", {
      worker_id: this.#o.workerId,
      topic: this.#o.topic,
    });
  }

  /**
   * A cancel notice: a job waiting here is dropped, a running one has its
   * signal aborted (its outcome is not reported), a later one is skipped.
   */
  #cancel(jobId: string): void {
    this.#cancels.add(jobId);
    if (this.#running.cancel(jobId) || this.#feed?.cancel(jobId)) {
      this.#o.log.info("job {job_id} cancelled while running: aborted", {
        job_id: jobId,
      });
      return;
    }
    if (this.#feed) return;
    const at = this.#queue.findIndex((m) =>
      (m.payload.value as JobRequest).jobId === jobId
    );
    if (at >= 0) {
      this.#queue.splice(at, 1);
      this.#o.log.info("job {job_id} cancelled before it started", {
        job_id: jobId,
      });
      if (this.#active === 0 && this.#queue.length === 0) this.#idle?.();
    }
  }

  #accept(message: BusPacket): void {
    if (message.payload.case !== "jobRequest") {
      this.#o.log.warn("ignored a {kind} packet on {topic}", {
        kind: message.payload.case,
        topic: this.#o.topic,
      });
      return;
    }
    if (this.#cancels.has(message.payload.value.jobId)) return;
    if (this.#active < this.#concurrency) this.#run(message);
    else this.#queue.push(message);
  }

  /**
   * Runs `message`'s job, then the queued ones while there is room. A
   * handler that answers synchronously (the echo worker with 0 ms of work)
   * is reported at once, without a promise per job; one that returns a
   * promise is reported when it settles.
   */
  #run(message: BusPacket): void {
    for (
      let next: BusPacket | undefined = message;
      next !== undefined;
      next = this.#active < this.#concurrency ? this.#queue.shift() : undefined
    ) {
      const current = next;
      const job = (current.payload as { value: JobRequest }).value;
      this.#active++;
      const started = performance.now();
      const control = this.#running.start();
      let outcome: JobOutcome | Promise<JobOutcome>;
      try {
        outcome = this.#o.handler(job, undefined, control.signal);
      } catch (error) {
        outcome = failure(error);
      }
      if (isPromise(outcome)) {
        // Cancellable from now on: a cancel notice is a message, so none
        // was taken in while the handler ran; one that answered at once
        // is never in the map (a set and a delete a job saved).
        this.#running.add(job.jobId, control);
        Promise.resolve(outcome).then(undefined, failure).then((settled) => {
          this.#running.delete(job.jobId);
          // Cancelled: the scheduler published CANCELLED, the one result.
          if (!this.#running.cancelled(control)) {
            this.#report(current, job, started, settled);
          }
          this.#active--;
          const queued = this.#queue.shift();
          if (queued) this.#run(queued);
          else if (this.#active === 0) this.#idle?.();
        });
        return;
      }
      this.#report(current, job, started, outcome);
      this.#active--;
    }
    if (this.#active === 0 && this.#queue.length === 0) this.#idle?.();
  }

  #report(
    message: BusPacket,
    job: JobRequest,
    started: number,
    outcome: JobOutcome,
  ): void {
    if (outcome.status === "completed") this.#completed++;
    else this.#failed++;
    const result = jobResult(
      job,
      this.#o.workerId,
      performance.now() - started,
      outcome,
      1,
    );
    this.#o.bus.publish(
      RESULT,
      packet({ case: "jobResult", value: result }, {
        traceId: message.traceId,
        senderId: this.#o.workerId,
      }),
    );
  }

  #heartbeat(leaving: boolean): void {
    this.#beats.send(leaving, this.active);
  }
}
