/**
 * The worker runtime: takes jobs from a queue group, runs them with bounded
 * concurrency, reports results, heartbeats, and drains on shutdown.
 *
 * A job type is just a {@linkcode JobHandler}; the echo worker is one.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { cpuUsage } from "node:process";
import { HeartbeatSchema, JobStatus } from "../gen/cortex/v1/cortex_pb.ts";
import type {
  BusPacket,
  Heartbeat,
  JobRequest,
  JobResult,
} from "../bus/messages.ts";
import type { Bus } from "../bus/bus.ts";
import { packet } from "../bus/codec.ts";
import { heartbeatSubject, RESULT, workerQueue } from "../bus/subjects.ts";
import type { Logger } from "../log.ts";

/** The output of a failed job: none, one shared empty array. */
const EMPTY = new Uint8Array(0);

/** What a handler produces: output bytes, or a failure. */
export type JobOutcome =
  | { status: "completed"; output: Uint8Array }
  | { status: "failed"; error: string };

/** Runs one job. A thrown error or rejection becomes a FAILED result. */
export type JobHandler = (
  job: JobRequest,
) => JobOutcome | Promise<JobOutcome>;

function failure(error: unknown): JobOutcome {
  return {
    status: "failed",
    error: error instanceof Error ? error.message : String(error),
  };
}

function isPromise(
  value: JobOutcome | Promise<JobOutcome>,
): value is Promise<JobOutcome> {
  return typeof (value as { then?: unknown }).then === "function";
}

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
}

/**
 * A worker: one queue-group subscription and a heartbeat.
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
  #idle?: () => void;
  #cpu = cpuUsage();
  #cpuAt = performance.now();
  #completed = 0;
  #failed = 0;

  /** A worker over `options`; it does nothing until {@linkcode Worker.start}. */
  constructor(options: WorkerOptions) {
    this.#o = options;
    this.#concurrency = Math.max(1, options.concurrency ?? 1);
  }

  /** Jobs running now. */
  get active(): number {
    return this.#active;
  }

  /**
   * Subscribes to the topic and sends the first heartbeat at once; resolves
   * when the server has the subscription, so jobs published after it arrive.
   */
  async start(): Promise<void> {
    const { bus, topic, pool } = this.#o;
    this.#subscription = bus.subscribe(
      topic,
      (message) => this.#accept(message),
      {
        queue: workerQueue(pool),
      },
    );
    this.#heartbeat(false);
    this.#beat = setInterval(
      () => this.#heartbeat(false),
      this.#o.heartbeatMs ?? 5_000,
    );
    await bus.flush();
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
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    if (this.#active > 0 || this.#queue.length > 0) {
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

  #accept(message: BusPacket): void {
    if (message.payload.case !== "jobRequest") {
      this.#o.log.warn("ignored a {kind} packet on {topic}", {
        kind: message.payload.case,
        topic: this.#o.topic,
      });
      return;
    }
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
      let outcome: JobOutcome | Promise<JobOutcome>;
      try {
        outcome = this.#o.handler(job);
      } catch (error) {
        outcome = failure(error);
      }
      if (isPromise(outcome)) {
        Promise.resolve(outcome).then(undefined, failure).then((settled) => {
          this.#report(current, job, started, settled);
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
    const completed = outcome.status === "completed";
    if (completed) this.#completed++;
    else this.#failed++;
    // A literal rather than create(JobResultSchema, …): one per job, and the
    // compiler checks it names every field.
    const result: JobResult = {
      $typeName: "cortex.v1.JobResult",
      jobId: job.jobId,
      status: completed ? JobStatus.COMPLETED : JobStatus.FAILED,
      resultPtr: "",
      workerId: this.#o.workerId,
      executionMs: BigInt(Math.round(performance.now() - started)),
      output: completed ? outcome.output : EMPTY,
      error: completed ? "" : outcome.error,
      attempts: 1,
    };
    this.#o.bus.publish(
      RESULT,
      packet({ case: "jobResult", value: result }, {
        traceId: message.traceId,
        senderId: this.#o.workerId,
      }),
    );
  }

  #heartbeat(leaving: boolean): void {
    const o = this.#o;
    const value: Heartbeat = create(HeartbeatSchema, {
      workerId: o.workerId,
      pool: o.pool,
      region: o.region,
      type: o.type,
      capabilities: o.capabilities,
      activeJobs: leaving ? 0 : this.#active,
      maxParallelJobs: this.#concurrency,
      cpuLoad: this.#cpuLoad(),
      leaving,
    });
    o.bus.publish(
      heartbeatSubject(o.pool),
      packet({ case: "heartbeat", value }, { senderId: o.workerId }),
    );
  }

  /** This process's CPU use since the last heartbeat, as a fraction of one core. */
  #cpuLoad(): number {
    const now = performance.now();
    const used = cpuUsage(this.#cpu);
    const elapsedUs = (now - this.#cpuAt) * 1000;
    this.#cpu = cpuUsage();
    this.#cpuAt = now;
    return elapsedUs > 0 ? (used.user + used.system) / elapsedUs : 0;
  }
}
