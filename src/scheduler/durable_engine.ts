/**
 * The scheduler in durable mode: the same {@linkcode SchedulerService} as
 * the core engine, so the dashboard works unchanged, but its jobs live in
 * JetStream. It pulls submissions and attempt reports through the shared
 * consumers and hands them to the {@linkcode DurableIntake}; it watches
 * the ledger and keeps its job table and counters from it (every replica
 * does, so they agree); it still hears heartbeats and core workers'
 * results on core NATS; and once a second it times out jobs past their
 * deadline and re-judges the workers' liveness.
 *
 * docs/durability.md tells the design; `src/bus/durable/layout.ts` names
 * the streams.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { pullEach } from "../bus/durable/scheduler_consumers.ts";
import { JobRequestSchema } from "../gen/cortex/v1/cortex_pb.ts";
import type { JobResult } from "../bus/messages.ts";
import { encodePacket, newTraceId, packet } from "../bus/codec.ts";
import { HEARTBEAT_ALL, RESULT, SUBMIT } from "../bus/subjects.ts";
import {
  ATTEMPT_CONSUMER,
  ATTEMPT_STREAM,
  SUBMIT_CONSUMER,
  SUBMIT_STREAM,
  workSubject,
} from "../bus/durable/layout.ts";
import { BoundedWarnings } from "../bounded_warnings.ts";
import { finalState, isFinal, JobState } from "../contract/mod.ts";
import { Fleet } from "./fleet.ts";
import { type CoreResultVerdict, DurableIntake } from "./intake.ts";
import type { JobTable } from "./job_table.ts";
import { recordOf } from "./ledger.ts";
import { discardDeadLetter } from "./dead_letters.ts";
import { type DurableCounters, LedgerView } from "./ledger_view.ts";
import { checkJob } from "./pipeline.ts";
import { BacklogSampler, JetStreamBacklog } from "./backlog.ts";
import { ControlNotices } from "./actions.ts";
import { cancelByHand } from "./cancel_by_hand.ts";
import { RouteCache } from "./route_cache.ts";
import {
  type ActionResult,
  type DurableService,
  type JobSubmission,
  type JobsView,
  type SchedulerCounters,
  type SchedulerObserver,
  type SchedulerService,
  type SubmitOutcome,
  type WorkersView,
  zeroCounters,
} from "./service.ts";
import { clipped } from "./validation.ts";

import type { DurableSchedulerOptions } from "./durable_engine_options.ts";
export type { DurableSchedulerOptions };

/**
 * The durable scheduler engine.
 *
 * @example
 * ```ts
 * const scheduler = new DurableScheduler({ bus, js, ledger, safety, strategy, registry, jobs, limits, maxAttempts: 3, senderId, log });
 * await scheduler.start();
 * ```
 */
export class DurableScheduler implements SchedulerService {
  /** The ledger's totals over its history (see `ledger_view.ts`). */
  readonly counters: SchedulerCounters = zeroCounters();
  /** Retries, dead letters, and duplicate deliveries fenced. */
  readonly durableCounters: DurableCounters = {
    retries: 0,
    deadLettered: 0,
    duplicateDeliveries: 0,
  };
  readonly #o: DurableSchedulerOptions;
  readonly #jobs: JobTable;
  readonly #fleet: Fleet;
  readonly #view: LedgerView;
  readonly #intake: DurableIntake;
  readonly #control: ControlNotices;
  readonly #observers = new Set<SchedulerObserver>();
  readonly #routes: RouteCache;
  /** Jobs whose timeout is being written now: tried once at a time. */
  readonly #timingOut = new Set<string>();
  /** Core results not believed, logged five per 10 s: a forger cannot flood the log. */
  readonly #rejected: BoundedWarnings;
  readonly #stopped = new AbortController();
  #subscriptions: { unsubscribe(): void }[] = [];
  #ticker?: ReturnType<typeof setInterval>;
  #pulls: { stop(): void }[] = [];
  #backlog?: BacklogSampler;
  /** Backlog, durable counters and retry by hand: see {@linkcode DurableService}. */
  readonly durable: DurableService = {
    stats: () => ({
      pools: this.#backlog?.pools() ?? [],
      retries: this.durableCounters.retries,
      deadLettered: this.durableCounters.deadLettered,
      duplicateDeliveries: this.durableCounters.duplicateDeliveries,
      sampledAt: this.#backlog?.sampledAt,
    }),
    retry: (jobId, by) => this.#intake.retry(jobId, by),
    lookup: async (jobId) => {
      const got = await this.#o.ledger.get(jobId);
      return got && recordOf(got.entry);
    },
    discard: (jobId, by) =>
      discardDeadLetter(this.#o.ledger, { jobId, by, now: Date.now() }),
  };

  /** A scheduler over `options`' parts; it does nothing until {@linkcode DurableScheduler.start}. */
  constructor(options: DurableSchedulerOptions) {
    this.#o = options;
    this.#jobs = options.jobs;
    this.#rejected = new BoundedWarnings(options.log, "ignored results");
    this.#fleet = new Fleet(
      options.registry,
      this.counters,
      this.#observers,
      options.log,
    );
    this.#view = new LedgerView(
      options.jobs,
      this.counters,
      this.durableCounters,
      this.#observers,
    );
    this.#routes = new RouteCache(options.registry);
    this.#control = new ControlNotices({
      ...options,
      observers: this.#observers,
    });
    this.#intake = new DurableIntake({
      ...options,
      route: (topic) => this.#routes.route(topic),
      timeoutMs: options.jobs.timeoutMs,
      counters: this.counters,
      durable: this.durableCounters,
    });
  }

  /** The job table (the ledger's recent jobs), read-only. */
  get jobs(): JobsView {
    return this.#jobs;
  }

  /** The worker registry, read-only. */
  get workers(): WorkersView {
    return this.#o.registry;
  }

  /**
   * Subscribes to heartbeats and results, starts watching the ledger and
   * pulling submissions and reports, and starts the clock. Resolves once
   * the ledger's entries held now are in the job table (or after 2 s,
   * whichever is first), so a restarted replica shows its jobs at once.
   */
  async start(): Promise<void> {
    const { bus, log } = this.#o;
    this.#subscriptions = [
      bus.subscribe(RESULT, (message) => {
        if (message.payload.case !== "jobResult") return;
        if (message.senderId === this.#o.senderId) return; // our own
        this.#onCoreResult(message.payload.value, message.senderId);
      }),
      bus.subscribe(HEARTBEAT_ALL, (message, _raw, subject) => {
        if (message.payload.case !== "heartbeat") return;
        this.#fleet.heartbeat(message.payload.value, subject);
      }, { screen: (raw) => this.#fleet.screen(raw) }),
      this.#control.listen(),
    ];
    await bus.flush();
    const loaded = Promise.withResolvers<void>();
    await this.#o.ledger.watch(
      (entry, initial) => this.#view.apply(entry, { initial }),
      {
        signal: this.#stopped.signal,
        onLoaded: (count) => {
          log.info("ledger loaded: {count} jobs", { count });
          loaded.resolve();
        },
        onError: (error) =>
          log.error("the ledger watch ended: {error}", { error }),
      },
    );
    await Promise.race([
      loaded.promise,
      new Promise((resolve) => setTimeout(resolve, 2_000)),
    ]);
    this.#pulls = [
      await pullEach(
        this.#o.js,
        SUBMIT_STREAM,
        SUBMIT_CONSUMER,
        (m) => this.#intake.admit(m),
        this.#o.log,
      ),
      await pullEach(
        this.#o.js,
        ATTEMPT_STREAM,
        ATTEMPT_CONSUMER,
        (m) => this.#intake.record(m),
        this.#o.log,
      ),
    ];
    this.#ticker = setInterval(() => this.tick(), this.#o.tickMs ?? 1_000);
    this.#backlog = new BacklogSampler({
      source: this.#o.backlog ??
        new JetStreamBacklog(await this.#o.js.jetstreamManager()),
      intervalMs: this.#o.backlogIntervalMs,
      log,
    });
    this.#backlog.start();
  }

  /** Stops pulling, watching and the clock. Unacknowledged messages go to other replicas. */
  stop(): void {
    for (const sub of this.#subscriptions) sub.unsubscribe();
    this.#subscriptions = [];
    for (const pull of this.#pulls) pull.stop();
    this.#pulls = [];
    this.#stopped.abort();
    clearInterval(this.#ticker);
    this.#backlog?.stop();
  }

  /** Registers an observer; returns a function that removes it. */
  observe(observer: SchedulerObserver): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  /** Cancels a job not yet final, through the ledger: see `cancel_by_hand.ts`. */
  cancel(jobId: string, by = "dashboard"): Promise<ActionResult> {
    const at = { jobId, by, now: Date.now() };
    return cancelByHand({ ...this.#o, control: this.#control }, at);
  }

  /** Asks a worker to drain or resume: see {@linkcode SchedulerService.drain}. */
  drain(workerId: string, o?: { resume?: boolean }): Promise<ActionResult> {
    return this.#control.drain(workerId, o);
  }

  /**
   * Submits one job given in plain terms (the dashboard's form) the way a
   * client does: into `CORTEX_SUBMIT` with its id as message id. The
   * outcome is what the intake will decide, judged now; the job shows in
   * the table once the ledger has it.
   */
  submit(job: JobSubmission): SubmitOutcome {
    const traceId = newTraceId();
    const request = create(JobRequestSchema, {
      jobId: job.jobId,
      topic: job.topic,
      priority: job.priority ?? 0,
      payload: job.payload,
    });
    const held = this.#jobs.get(job.jobId);
    const refusal = checkJob(request, this.#o);
    const bytes = encodePacket(
      packet({ case: "jobRequest", value: request }, {
        traceId,
        senderId: job.submitter,
      }),
    );
    this.#o.js.publish(SUBMIT, bytes, { msgID: job.jobId }).catch((error) =>
      this.#o.log.error("cannot submit job {job_id}: {error}", {
        job_id: job.jobId,
        error: error instanceof Error ? error.message : String(error),
      })
    );
    if (held && !refusal) {
      return {
        status: "duplicate",
        jobId: job.jobId,
        traceId,
        state: held.state,
      };
    }
    if (refusal) {
      return {
        status: refusal.state === JobState.DENIED ? "denied" : "failed",
        jobId: job.jobId,
        traceId,
        reason: refusal.reason,
      };
    }
    const subject = this.#o.strategy.route(request);
    return {
      status: "dispatched",
      jobId: job.jobId,
      traceId,
      subject: this.#routes.route(job.topic).durable
        ? workSubject(subject)
        : subject,
    };
  }

  /** Times out jobs past their deadline (through the ledger) and re-judges worker liveness. */
  tick(): void {
    for (const record of this.#jobs.overdue()) {
      if (this.#timingOut.has(record.jobId)) continue;
      this.#timingOut.add(record.jobId);
      this.#intake.timeOut(record.jobId)
        .catch((error) =>
          this.#o.log.warn("cannot time out job {job_id} yet: {error}", {
            job_id: record.jobId,
            error: error instanceof Error ? error.message : String(error),
          })
        )
        .finally(() => this.#timingOut.delete(record.jobId));
    }
    this.#fleet.tick();
  }

  #onCoreResult(result: JobResult, sender: string): void {
    if (result.jobId === "") return;
    const held = this.#jobs.get(result.jobId);
    // Every replica sees every result (fan-out), so another replica's
    // publication of an outcome this one already holds is the normal echo
    // of a recorded job, not a late result: with two replicas, counting
    // and warning about it did so once per job.
    if (
      held && isFinal(held.state) &&
      finalState(result.status) === held.state &&
      held.workerId === result.workerId
    ) {
      return;
    }
    if (held && isFinal(held.state)) {
      this.counters.lateResults++;
      this.#ignoredResult(result, sender, "already_final");
      return;
    }
    this.#intake.coreResult(result).then((verdict) => {
      if (verdict !== "recorded" && verdict !== "echo") {
        this.#ignoredResult(result, sender, verdict);
      }
    }).catch((error) =>
      this.#o.log.error("cannot record the result of job {job_id}: {error}", {
        job_id: result.jobId,
        error: error instanceof Error ? error.message : String(error),
      })
    );
  }

  /** Logs a core result not believed, at a bounded rate. */
  #ignoredResult(
    result: JobResult,
    sender: string,
    verdict: Exclude<CoreResultVerdict, "recorded" | "echo">,
  ): void {
    this.#rejected.warn(
      "ignored a {status} result on core NATS for job {job_id} from {sender}: {why}",
      {
        status: finalState(result.status),
        job_id: clipped(result.jobId, 64),
        sender: clipped(sender, 64),
        why: verdict === "already_final"
          ? "the job is final already"
          : verdict === "unknown_job"
          ? "the ledger does not hold the job"
          : "the job was dispatched to the durable work stream: only its attempt reports end it",
      },
    );
  }
}
