/**
 * `cortex.worker(...)`: a user's handler served by the worker runtime
 * (src/worker/runtime.ts), core or durable, with the SDK's payload rules.
 *
 * @module
 */
import type { Bus } from "../bus/bus.ts";
import type { NatsConnection } from "../bus/connect.ts";
import type { Durability } from "../bus/durable/mode.ts";
import { JetStreamWorkQueue } from "../bus/durable/work_queue.ts";
import type { JobRequest } from "../bus/messages.ts";
import { reservedPrefix, subjectProblem } from "../bus/subjects.ts";
import { JOB_PRIORITIES, priorityName } from "../contract/mod.ts";
import type { Logger } from "../log.ts";
import type { JobHandler, JobOutcome } from "../worker/job.ts";
import { Worker } from "../worker/runtime.ts";
import {
  decodeJson,
  decodeText,
  encodePayload,
  plainBytes,
} from "./payload.ts";
import type { Handler, Job, JobPriority, WorkerOptions } from "./types.ts";

const EMPTY = new Uint8Array(0);

/**
 * The bytes a handler's return value becomes: like a payload, except that
 * nothing (`undefined`) is no output rather than an error.
 */
export function encodeOutput(value: unknown): Uint8Array {
  return value === undefined ? EMPTY : encodePayload(value);
}

/** What the SDK's worker needs from its {@linkcode Cortex}. */
export interface WorkerContext {
  /** The connection. */
  nc: NatsConnection;
  /** The bus over it. */
  bus: Bus;
  /** The mode the Cortex resolved. */
  durability: Durability;
  /** Where the worker logs. */
  log: Logger;
}

/**
 * A worker serving one topic with a handler, from the moment
 * `cortex.worker(...)` resolves until {@linkcode CortexWorker.stop}.
 */
export class CortexWorker {
  /** Its id, unique per worker (heartbeats and results carry it). */
  readonly id: string;
  /** The topic it serves. */
  readonly topic: string;
  /** The pool it joined. */
  readonly pool: string;
  readonly #worker: Worker;
  readonly #onStopped: (worker: CortexWorker) => void;
  readonly #stopGraceMs: number;
  readonly #log: Logger;
  #stopping?: Promise<void>;

  /** Use `cortex.worker(...)`, which starts it. */
  constructor(
    context: WorkerContext,
    topic: string,
    handler: Handler,
    options: WorkerOptions,
    onStopped: (worker: CortexWorker) => void,
  ) {
    const problem = subjectProblem(topic);
    if (problem) {
      throw new TypeError(`topic ${JSON.stringify(topic)} ${problem}`);
    }
    const reserved = reservedPrefix(topic);
    if (reserved) {
      throw new TypeError(
        `topic ${topic}: ${reserved} is reserved for CortexOS itself; serve e.g. job.${
          topic.split(".").at(-1)
        }`,
      );
    }
    this.topic = topic;
    this.pool = options.pool ?? topic.split(".").at(-1)!;
    this.id = options.id ?? `${this.pool}-${crypto.randomUUID().slice(0, 8)}`;
    this.#onStopped = onStopped;
    const log = context.log;
    this.#log = log;
    this.#stopGraceMs = options.stopGraceMs ?? 10_000;
    // A handler that answers at once is reported at once, without a
    // promise per job (the runtime's fast path: the echo worker's 0 ms).
    const run: JobHandler = (
      request: JobRequest,
      attempt: number | undefined,
      signal: AbortSignal,
    ) => {
      const value = handler(toJob(request, attempt, signal, log));
      if (isThenable(value)) {
        return Promise.resolve(value).then((output) => completed(output));
      }
      return completed(value);
    };
    const ackWaitMs = options.ackWaitMs ?? 5_000;
    this.#worker = new Worker({
      bus: context.bus,
      log,
      handler: run,
      workerId: this.id,
      pool: this.pool,
      topic,
      region: options.region ?? "local",
      type: this.pool,
      capabilities: options.capabilities ?? [this.pool],
      concurrency: options.concurrency ?? 1,
      heartbeatMs: options.heartbeatMs,
      durable: context.durability === "jetstream"
        ? {
          queue: new JetStreamWorkQueue(context.nc, { topic, ackWaitMs, log }),
          ackWaitMs,
          retryBaseMs: options.retryBaseMs ?? 1_000,
          retryMaxMs: options.retryMaxMs ?? 30_000,
        }
        : undefined,
    });
  }

  /** Jobs running now. */
  get active(): number {
    return this.#worker.active;
  }

  /** Subscribes (core) or starts its feed (durable) and sends its first heartbeat. */
  async start(): Promise<void> {
    await this.#worker.start();
  }

  /**
   * Stops taking jobs, finishes the ones it has, and says it is leaving.
   * Jobs still running `stopGraceMs` in have their {@linkcode Job.signal}
   * aborted; it resolves once every handler has returned. Calling it again
   * returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const grace = setTimeout(() => {
        if (this.active === 0) return;
        this.#log.warn(
          "worker {worker_id}: aborting the signal of {count} jobs still running {ms} ms into the stop",
          { worker_id: this.id, count: this.active, ms: this.#stopGraceMs },
        );
        const reason = new Error(
          `worker ${this.id} is stopping: the job ran past its ${this.#stopGraceMs} ms grace (stopGraceMs)`,
        );
        this.#worker.abortJobs(reason);
      }, this.#stopGraceMs);
      try {
        await this.#worker.stop();
      } finally {
        clearTimeout(grace);
        this.#onStopped(this);
      }
    })();
    return this.#stopping;
  }
}

function completed(value: unknown): JobOutcome {
  return { status: "completed", output: encodeOutput(value) };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** The known priorities' names as a handler sees them, made once. */
const LOWER_PRIORITIES = JOB_PRIORITIES.map((name) =>
  name.toLowerCase() as JobPriority | "unspecified"
);

/** A priority's name in lower case (`"batch"`), as {@linkcode Job.priority} gives it. */
function lowerPriority(priority: number): JobPriority | "unspecified" {
  return LOWER_PRIORITIES[priority] ??
    priorityName(priority).toLowerCase() as JobPriority | "unspecified";
}

function toJob(
  request: JobRequest,
  attempt: number | undefined,
  signal: AbortSignal,
  log: Logger,
): Job {
  const payload = plainBytes(request.payload);
  return {
    id: request.jobId,
    topic: request.topic,
    payload,
    priority: lowerPriority(request.priority),
    // Durable mode passes the attempt; core mode has one per dispatch.
    attempt: attempt ?? Math.max(0, request.attemptBase) + 1,
    // The runtime's own per job, which a stop past its grace aborts too
    // (Worker.abortJobs): no signal combined per job, and no getter (an
    // object literal with one is made ten times slower, on the echo
    // worker's hot path).
    signal,
    log,
    text: () => decodeText(payload),
    json: <T>() => decodeJson<T>(payload),
  };
}
