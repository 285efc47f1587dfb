/**
 * The scheduler engine: the bus wiring around the {@linkcode SubmitPipeline}
 * and the {@linkcode Fleet}. It takes submissions, results and heartbeats
 * off the bus, publishes what the pipeline decides, records results, and
 * once a second times out jobs that never reported back and has the fleet
 * re-judge the workers' liveness.
 *
 * It knows the {@linkcode Bus} interface, not NATS; its parts (safety,
 * strategy, registry, job table) are passed in, so each can be swapped.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import {
  JobRequestSchema,
  JobResultSchema,
} from "../gen/cortex/v1/cortex_pb.ts";
import type { BusPacket, JobRequest, JobResult } from "../bus/messages.ts";
import type { Bus } from "../bus/bus.ts";
import { createdAtMs, newTraceId, packet } from "../bus/codec.ts";
import {
  HEARTBEAT_ALL,
  RESULT,
  SCHEDULER_QUEUE,
  SUBMIT,
} from "../bus/subjects.ts";
import { BoundedWarnings } from "../bounded_warnings.ts";
import {
  finalCountKey,
  finalState,
  isFinal,
  JobState,
  statusNumber,
} from "../contract/mod.ts";
import type { Logger } from "../log.ts";
import type { JobRecord, JobTable } from "./job_table.ts";
import { Fleet } from "./fleet.ts";
import { SubmitPipeline } from "./pipeline.ts";
import type { WorkerRegistry } from "./registry.ts";
import type { SafetyChecker } from "./safety.ts";
import { ControlNotices } from "./actions.ts";
import { answerDuplicate, cancelHeld, type CoreParts } from "./core_answers.ts";
import {
  type ActionResult,
  type JobSubmission,
  type JobsView,
  type SchedulerCounters,
  type SchedulerObserver,
  type SchedulerService,
  type SubmitOutcome,
  type WorkersView,
  zeroCounters,
} from "./service.ts";
import type { Strategy } from "./strategy.ts";
import {
  clipped,
  MAX_PACKET_ID_BYTES,
  type ValidationLimits,
} from "./validation.ts";

/** The parts and settings a {@linkcode Scheduler} is built from. */
export interface SchedulerOptions {
  /** The bus it serves. */
  bus: Bus;
  /** Decides which topics may run. */
  safety: SafetyChecker;
  /** Picks each job's subject. */
  strategy: Strategy;
  /** The workers' latest heartbeats. */
  registry: WorkerRegistry;
  /** Recent jobs and their states. */
  jobs: JobTable;
  /** Limits every job must keep. */
  limits: ValidationLimits;
  /** This scheduler's sender id on the bus. */
  senderId: string;
  /** Where it says what happened. */
  log: Logger;
  /** How often deadlines and worker liveness are checked, in ms. Default 1,000. */
  tickMs?: number;
}

/**
 * The scheduler engine.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler({ bus, safety, strategy, registry, jobs, limits, senderId, log });
 * await scheduler.start();
 * ```
 */
export class Scheduler implements SchedulerService {
  /** Totals since start. */
  readonly counters: SchedulerCounters = zeroCounters();
  readonly #bus: Bus;
  readonly #log: Logger;
  readonly #debug: boolean;
  readonly #senderId: string;
  readonly #tickMs: number;
  readonly #jobs: JobTable;
  readonly #registry: WorkerRegistry;
  readonly #pipeline: SubmitPipeline;
  readonly #fleet: Fleet;
  readonly #control: ControlNotices;
  readonly #parts: CoreParts;
  readonly #observers = new Set<SchedulerObserver>();
  /** Results not believed, logged five per 10 s: a forger cannot flood the log. */
  readonly #rejected: BoundedWarnings;
  #subscriptions: { unsubscribe(): void }[] = [];
  #ticker?: ReturnType<typeof setInterval>;

  /** A scheduler over `options`' parts; it does nothing until {@linkcode Scheduler.start}. */
  constructor(options: SchedulerOptions) {
    this.#bus = options.bus;
    this.#log = options.log;
    this.#debug = options.log.isEnabledFor("debug");
    this.#senderId = options.senderId;
    this.#tickMs = options.tickMs ?? 1_000;
    this.#jobs = options.jobs;
    this.#registry = options.registry;
    this.#pipeline = new SubmitPipeline(options);
    this.#rejected = new BoundedWarnings(options.log, "ignored results");
    this.#fleet = new Fleet(
      options.registry,
      this.counters,
      this.#observers,
      options.log,
      true,
    );
    this.#control = new ControlNotices({
      ...options,
      observers: this.#observers,
    });
    this.#parts = {
      jobs: this.#jobs,
      counters: this.counters,
      log: this.#log,
      control: this.#control,
      publish: (result, traceId) => this.#publishResult(result, traceId),
      emit: (record) => this.#emitJob(record),
    };
  }

  /** The job table, read-only. */
  get jobs(): JobsView {
    return this.#jobs;
  }

  /** The worker registry, read-only. */
  get workers(): WorkersView {
    return this.#registry;
  }

  /**
   * Subscribes to submissions, results and heartbeats and starts the clock;
   * resolves when the server has the subscriptions.
   */
  async start(): Promise<void> {
    this.#subscriptions = [
      this.#bus.subscribe(
        SUBMIT,
        (message, raw) => this.#onSubmit(message, raw),
        { queue: SCHEDULER_QUEUE },
      ),
      this.#bus.subscribe(RESULT, (message) => {
        // Our own refusals and timeouts echo back: nothing to record.
        if (message.senderId === this.#senderId) return;
        this.#onResult(message);
      }),
      this.#bus.subscribe(
        HEARTBEAT_ALL,
        (message, _raw, subject) => {
          if (message.payload.case !== "heartbeat") return;
          this.#fleet.heartbeat(message.payload.value, subject);
        },
        { screen: (raw) => this.#fleet.screen(raw) },
      ),
      this.#control.listen(),
    ];
    this.#ticker = setInterval(() => this.tick(), this.#tickMs);
    await this.#bus.flush();
  }

  /** Stops taking packets and stops the clock. Jobs in flight stay in the table. */
  stop(): void {
    for (const sub of this.#subscriptions) sub.unsubscribe();
    this.#subscriptions = [];
    clearInterval(this.#ticker);
  }

  /** Registers an observer; returns a function that removes it. */
  observe(observer: SchedulerObserver): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  /**
   * Cancels a job in flight: CANCELLED in the table (a worker's result
   * after it is late, so fenced) and on `sys.job.result`, and a notice to
   * the workers (see {@linkcode SchedulerService.cancel}).
   */
  cancel(jobId: string, by = "dashboard"): Promise<ActionResult> {
    return Promise.resolve(cancelHeld(this.#parts, jobId, by));
  }

  /** Asks a worker to drain or resume: see {@linkcode SchedulerService.drain}. */
  drain(
    workerId: string,
    options?: { resume?: boolean },
  ): Promise<ActionResult> {
    return this.#control.drain(workerId, options);
  }

  /** Submits one job given in plain terms, e.g. from the dashboard's form. */
  submit(job: JobSubmission): SubmitOutcome {
    return this.submitRequest(
      create(JobRequestSchema, {
        jobId: job.jobId,
        topic: job.topic,
        priority: job.priority ?? 0,
        payload: job.payload,
      }),
      { submitter: job.submitter, createdAt: job.createdAt ?? Date.now() },
    );
  }

  /**
   * Submits one job through the pipeline (validation, safety, admission,
   * routing) and sends what it decides: the one path for jobs from the bus
   * and from the dashboard. `raw`, when given, is the job's BusPacket as
   * received, forwarded as it is to save re-encoding.
   */
  submitRequest(
    job: JobRequest,
    meta: { traceId?: string; submitter: string; createdAt?: number },
    raw?: Uint8Array,
  ): SubmitOutcome {
    const traceId = meta.traceId || newTraceId();
    this.counters.submitted++;
    const decision = this.#pipeline.decide(job, {
      traceId,
      submitter: meta.submitter,
      createdAt: meta.createdAt,
    });
    switch (decision.kind) {
      case "refuse": {
        // The decision's job and trace id are clipped to their limits: a
        // refusal's log line and result cost the same whatever it sent.
        const { state, reason, record, job: kept, traceId: shown } = decision;
        this.#log.info(
          `job {job_id} ${
            state === JobState.DENIED ? "denied" : "refused"
          }: {reason} (trace {trace_id}, topic {topic})`,
          { job_id: kept.jobId, trace_id: shown, topic: kept.topic, reason },
        );
        if (record) this.#emitJob(record);
        this.counters[finalCountKey(state)]++;
        this.#publishResult(decision.result, shown);
        return {
          status: state === JobState.DENIED ? "denied" : "failed",
          jobId: kept.jobId,
          traceId: shown,
          reason,
        };
      }
      case "duplicate":
        return answerDuplicate(this.#parts, decision.existing, traceId);
      case "dispatch":
        break;
    }
    const { record, subject } = decision;
    if (raw) {
      this.#bus.publishRaw(subject, raw);
    } else {
      this.#bus.publish(
        subject,
        packet({ case: "jobRequest", value: job }, {
          traceId,
          senderId: this.#senderId,
        }),
      );
    }
    this.#jobs.dispatched(record, subject);
    this.counters.dispatched++;
    if (this.#debug) {
      this.#log.debug(
        "job {job_id} dispatched to {subject} (trace {trace_id}, topic {topic})",
        { job_id: job.jobId, trace_id: traceId, topic: job.topic, subject },
      );
    }
    // Observers hear of it once, dispatched: PENDING lasted only for this
    // synchronous call, and observers run for every job.
    this.#emitJob(record);
    return { status: "dispatched", jobId: job.jobId, traceId, subject };
  }

  /** Times out overdue jobs and re-judges worker liveness. */
  tick(): void {
    for (const record of this.#jobs.expire()) {
      this.counters.timeout++;
      this.#log.warn(
        "job {job_id} timed out after {timeout_ms} ms on {subject} (trace {trace_id}, topic {topic})",
        {
          job_id: record.jobId,
          trace_id: record.traceId,
          topic: record.topic,
          subject: record.subject,
          timeout_ms: this.#jobs.timeoutMs,
        },
      );
      this.#publishResult(
        create(JobResultSchema, {
          jobId: record.jobId,
          status: statusNumber(JobState.TIMEOUT),
          error: record.error,
        }),
        record.traceId,
      );
      this.#emitJob(record);
    }
    this.#fleet.tick();
  }

  #onSubmit(message: BusPacket, raw: Uint8Array): void {
    if (message.payload.case !== "jobRequest") {
      this.#log.warn(
        "ignored a {kind} packet on {subject}: only job_request belongs there (sender {sender})",
        {
          kind: message.payload.case,
          subject: SUBMIT,
          sender: clipped(message.senderId, MAX_PACKET_ID_BYTES),
        },
      );
      return;
    }
    this.submitRequest(message.payload.value, {
      traceId: message.traceId,
      submitter: message.senderId,
      createdAt: createdAtMs(message),
    }, raw);
  }

  #onResult(message: BusPacket): void {
    if (message.payload.case !== "jobResult") return;
    const result = message.payload.value;
    if (result.jobId === "") return; // a refusal of a job without id: nothing to record
    const record = this.#jobs.finish(result);
    if (!record) {
      const held = this.#jobs.get(result.jobId) !== undefined;
      if (held) this.counters.lateResults++;
      else this.counters.unknownResults++;
      this.#rejected.warn(
        "ignored a {status} result for job {job_id} from {sender}: {why}",
        {
          status: finalState(result.status),
          job_id: clipped(result.jobId, 64),
          sender: clipped(message.senderId, 64),
          why: held
            ? "the job is final already"
            : "this scheduler did not dispatch it (never submitted, another replica's, or evicted)",
        },
      );
      return;
    }
    if (isFinal(record.state)) this.counters[finalCountKey(record.state)]++;
    if (record.traceId === "") record.traceId = message.traceId;
    if (this.#debug) {
      this.#log.debug(
        "job {job_id} {state} by {worker_id} in {execution_ms} ms (trace {trace_id}, topic {topic})",
        {
          job_id: record.jobId,
          state: record.state,
          worker_id: record.workerId,
          execution_ms: record.executionMs,
          trace_id: record.traceId,
          topic: record.topic,
        },
      );
    }
    this.#emitJob(record);
  }

  #publishResult(result: JobResult, traceId: string): void {
    this.#bus.publish(
      RESULT,
      packet({ case: "jobResult", value: result }, {
        traceId,
        senderId: this.#senderId,
      }),
    );
  }

  #emitJob(record: JobRecord): void {
    for (const o of this.#observers) o.jobChanged?.(record);
  }
}
