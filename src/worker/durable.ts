/**
 * How a worker takes jobs in durable mode: pulled from its topic's work
 * queue only as many as it has free slots, its lease kept while each
 * handler runs, and each attempt reported (stored) before the job is acked
 * or handed back for a later attempt. docs/durability.md tells the whole
 * flow.
 *
 * @module
 */
import {
  type DurableFeedOptions,
  LOST_DELIVERIES,
  NO_ATTEMPT_FINISHED,
  PULL_EXPIRES_MS,
  PULL_GUARD_MS,
} from "./durable_options.ts";
import { decodePacket, encodePacket, packet } from "../bus/codec.ts";
import type { JobRequest } from "../bus/messages.ts";
import {
  attemptMessageId,
  isFinalAttempt,
  retryDelayMs,
} from "../bus/durable/layout.ts";
import { MAX_DELIVER, type WorkMessage } from "../bus/durable/work_queue.ts";
import { BoundedWarnings } from "../bounded_warnings.ts";
import { sleep } from "../sleep.ts";
import { errorMessage } from "../log.ts";
import { REPORT_PAUSES_MS, storeReport } from "./report_retry.ts";
import { RunningJobs } from "./running_jobs.ts";
import { failure, isPromise, type JobOutcome, jobResult } from "./job.ts";

export * from "./durable_options.ts";

/**
 * Pulls jobs from a `WorkQueue` and runs them durably.
 *
 * Slots are counted as credit: jobs running plus jobs asked for in open
 * pull requests never exceed the concurrency, so the worker never holds a
 * job it cannot start (another worker may take it meanwhile). A new pull
 * request is opened when at least a quarter of the slots are free, or when
 * none is open, so a busy worker asks in batches and an idle one always
 * has one request waiting.
 *
 * @example
 * ```ts
 * const feed = new DurableFeed({ queue, log, handler, workerId, topic: "job.echo",
 *   concurrency: 4, ackWaitMs: 5_000, retryBaseMs: 1_000, retryMaxMs: 30_000 });
 * await feed.start();
 * await feed.stop();
 * ```
 */
export class DurableFeed {
  readonly #o: DurableFeedOptions;
  readonly #abort = new AbortController();
  readonly #leases = new Set<WorkMessage>();
  /** Each running job's abort controller, for a cancel or a stop past its grace. */
  readonly #running = new RunningJobs();
  readonly #warnings: BoundedWarnings;
  #ready = false;
  #paused = false;
  #stopping = false;
  #active = 0;
  #credit = 0;
  #pulls = 0;
  #recovering?: Promise<void>;
  #backoffMs = 0;
  #leaseTimer?: ReturnType<typeof setInterval>;
  #starting?: Promise<void>;
  #idle?: () => void;

  /** A feed over `options`; it does nothing until {@linkcode DurableFeed.start}. */
  constructor(options: DurableFeedOptions) {
    this.#o = { ...options, concurrency: Math.max(1, options.concurrency) };
    this.#warnings = new BoundedWarnings(options.log, "warnings about jobs");
  }

  /** Jobs held now (running, or being reported). */
  get active(): number {
    return this.#active;
  }

  /**
   * Starts taking jobs once the queue is ready (the work stream may not
   * exist yet: it waits for it, logging once). Resolves once the queue is
   * ready, or when {@linkcode DurableFeed.stop} is called first.
   */
  start(): Promise<void> {
    this.#starting ??= (async () => {
      await this.#o.queue.ready(this.#abort.signal);
      // Jobs cancelled before this worker listened may wait in the stream.
      for (const id of await this.#o.queue.cancelled?.() ?? []) {
        this.#o.cancels?.add(id);
      }
      if (this.#stopping) return;
      this.#ready = true;
      this.#leaseTimer = setInterval(
        () => this.#renewLeases(),
        Math.max(1, Math.floor(this.#o.ackWaitMs / 3)),
      );
      this.#pump();
    })();
    return this.#starting;
  }

  /**
   * Stops asking for jobs (those its open requests still bring are handed
   * back at once), then finishes the jobs it holds: each is reported and
   * settled before this resolves.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    await this.#starting;
    if (this.#active > 0 || this.#pulls > 0) {
      await new Promise<void>((resolve) => this.#idle = resolve);
    }
    clearInterval(this.#leaseTimer);
  }

  /** Stops pulling (a drain); the jobs held run to their end. */
  pause(): void {
    this.#paused = true;
  }

  /** Pulls again after {@linkcode DurableFeed.pause}. */
  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  /**
   * Aborts the signal of `jobId` if it runs here (its outcome is not
   * reported); whether it did.
   */
  cancel(jobId: string): boolean {
    return this.#running.cancel(jobId);
  }

  /**
   * Aborts the signal of every job running now and of every job started
   * from now on, with `reason`; their outcomes are still reported.
   */
  abortJobs(reason: unknown): void {
    this.#running.abortAll(reason);
  }

  /** Opens pull requests for the free slots, by the rule in the class doc. */
  #pump(): void {
    if (!this.#ready || this.#stopping || this.#recovering) return;
    if (this.#paused) return;
    const { concurrency } = this.#o;
    const free = concurrency - this.#active - this.#credit;
    if (free <= 0) return;
    if (this.#credit > 0 && free < Math.ceil(concurrency / 4)) return;
    this.#pull(free);
  }

  async #pull(max: number): Promise<void> {
    this.#credit += max;
    this.#pulls++;
    let received = 0;
    let failed: unknown;
    let guard: ReturnType<typeof setTimeout> | undefined;
    try {
      const expires = this.#o.pullExpiresMs ?? PULL_EXPIRES_MS;
      const messages = await this.#o.queue.pull(max, expires);
      const closable = messages as { close?: () => unknown };
      guard = setTimeout(
        () => closable.close?.(),
        expires + PULL_GUARD_MS,
      );
      for await (const message of messages) {
        received++;
        this.#credit--;
        this.#take(message);
        // A request never brings more than it asked for; if a server ever
        // did, the slots are not there: stop counting credit below zero.
        if (received >= max) break;
      }
      this.#backoffMs = 0;
    } catch (error) {
      failed = error;
    } finally {
      clearTimeout(guard);
      this.#credit -= max - received;
      this.#pulls--;
    }
    if (failed !== undefined && !this.#stopping) {
      this.#warnings.warn(
        "pulling jobs for {topic} failed, trying again: {error}",
        { topic: this.#o.topic, error: errorMessage(failed) },
      );
      await this.#recover();
    }
    this.#pump();
    this.#settleIdle();
  }

  /**
   * After a failed pull (server gone, consumer or stream deleted, or a
   * cluster's consumer without a leader): waits 250 ms, then 500 ms after
   * each failure in a row, then makes sure the stream and the consumer are
   * there again. Failed pulls share one recovery. Short, because each
   * failed pull already took a second (its missed heartbeats), and a
   * consumer's new leader should be pulled from at once (a 2 s cap cost
   * 1-2 s after each cluster node kill).
   */
  #recover(): Promise<void> {
    this.#recovering ??= (async () => {
      this.#backoffMs = this.#backoffMs === 0 ? 250 : 500;
      await sleep(this.#backoffMs, this.#abort.signal);
      try {
        await this.#o.queue.ready(this.#abort.signal);
      } catch (error) {
        this.#warnings.warn("cannot reach the work queue of {topic}: {error}", {
          topic: this.#o.topic,
          error: errorMessage(error),
        });
      }
      this.#recovering = undefined;
    })();
    return this.#recovering;
  }

  #take(msg: WorkMessage): void {
    if (this.#stopping || this.#paused) {
      // Handed back at once rather than left to its ack wait: another
      // worker gets it now (a drain too: open pulls may still bring jobs).
      msg.nak();
      return;
    }
    const decoded = decodePacket(msg.data);
    if (!decoded.ok || decoded.packet.payload.case !== "jobRequest") {
      this.#warnings.warn(
        "dropped a message on the work queue of {topic} that is not a job ({size} bytes): {reason}",
        {
          topic: this.#o.topic,
          size: msg.data.length,
          reason: decoded.ok
            ? `a ${decoded.packet.payload.case} packet`
            : decoded.reason,
        },
      );
      // No attempt can ever run it: terminated, never redelivered.
      msg.term();
      return;
    }
    const job = decoded.packet.payload.value;
    if (this.#o.cancels?.has(job.jobId)) {
      // Cancelled while it waited (stream, retry): never started, never again.
      this.#o.log.info("job {job_id} was cancelled: skipped, not started", {
        job_id: job.jobId,
      });
      msg.term();
      return;
    }
    this.#active++;
    this.#leases.add(msg);
    this.#attempt(msg, job, decoded.packet.traceId);
  }

  /** Runs one attempt, reports it, settles its message. Never rejects. */
  async #attempt(
    msg: WorkMessage,
    job: JobRequest,
    traceId: string,
  ): Promise<void> {
    const o = this.#o;
    // A retry by hand dispatches the job again after the attempts it was
    // allowed before (`attemptBase`): its deliveries count from 1 again,
    // its attempts go on from there, so their numbers and report ids are new.
    const base = Math.max(0, job.attemptBase);
    const attempt = base + msg.info.deliveryCount;
    // 0 is "not said": the scheduler fills its default before dispatch, so
    // a 0 here came from elsewhere and gets one attempt. JetStream stops
    // redelivering after MAX_DELIVER, so no dispatch may count on more.
    const maxAttempts = Math.min(
      Math.max(base + 1, job.maxAttempts),
      base + MAX_DELIVER,
    );
    const started = performance.now();
    let outcome: JobOutcome | undefined;
    // Deliveries are counted as attempts, but some never ran to a report
    // through no fault of the job: a worker killed mid-job, a report or ack
    // lost with a cluster node. Up to LOST_DELIVERIES more are run; past
    // them the job is ended, so one that kills every worker stops.
    if (attempt > Math.min(maxAttempts + LOST_DELIVERIES, base + MAX_DELIVER)) {
      outcome = { status: "failed", error: NO_ATTEMPT_FINISHED };
    } else {
      outcome = await this.#run(job, attempt);
    }
    if (outcome === undefined) {
      // Cancelled while it ran: the ledger is CANCELLED, the scheduler
      // published it, a report would be fenced. Settled for good.
      return this.#done(msg, () => msg.term(), job.jobId);
    }
    const failed = outcome.status !== "completed";
    const final = isFinalAttempt(failed, attempt, maxAttempts);
    const result = jobResult(
      job,
      o.workerId,
      outcome.status === "failed" && outcome.error === NO_ATTEMPT_FINISHED
        ? 0
        : performance.now() - started,
      outcome,
      attempt,
    );
    const stored = await this.#report(
      encodePacket(packet({ case: "jobResult", value: result }, {
        traceId,
        senderId: o.workerId,
      })),
      attemptMessageId(job.jobId, attempt),
    );
    if (stored) o.onAttempt?.(result, final);
    // A failed attempt waits its backoff; an attempt whose report was not
    // stored is handed back too (never acked unreported, so never lost),
    // after the same backoff so a missing attempt stream does not spin the
    // job through its deliveries.
    this.#done(
      msg,
      () =>
        stored && final ? msg.ack() : msg.nak(
          retryDelayMs(attempt, o.retryBaseMs, o.retryMaxMs, o.random),
        ),
      job.jobId,
    );
  }

  /** Runs the handler; `undefined` when the job was cancelled meanwhile. */
  async #run(
    job: JobRequest,
    attempt: number,
  ): Promise<JobOutcome | undefined> {
    const control = this.#running.start();
    this.#running.add(job.jobId, control);
    let outcome: JobOutcome;
    try {
      const running = this.#o.handler(job, attempt, control.signal);
      outcome = isPromise(running)
        ? await running.then(undefined, failure)
        : running;
    } catch (error) {
      outcome = failure(error);
    }
    this.#running.delete(job.jobId);
    return this.#running.cancelled(control) ? undefined : outcome;
  }

  /** Settles a job's message (`how`: ack, nak or term) and frees its slot. */
  #done(msg: WorkMessage, how: () => void, jobId: string): void {
    this.#leases.delete(msg);
    try {
      how();
    } catch (error) {
      // The connection is closed: unacked, the job is redelivered after
      // its ack wait.
      this.#warnings.warn("cannot settle job {job_id}: {error}", {
        job_id: jobId,
        error: errorMessage(error),
      });
    }
    this.#active--;
    this.#pump();
    this.#settleIdle();
  }

  /**
   * Publishes a report until the attempt stream has stored it (the
   * message id makes a repeat harmless); the job's lease is kept
   * meanwhile. Whether it was stored.
   */
  #report(bytes: Uint8Array, msgId: string): Promise<boolean> {
    return storeReport(
      () => this.#o.queue.report(bytes, msgId),
      this.#o.reportPausesMs ?? REPORT_PAUSES_MS,
      (tried, tries, error) =>
        this.#warnings.warn(
          "cannot store the report {msg_id} (try {tried} of {tries}): {error}",
          { msg_id: msgId, tried, tries, error },
        ),
    );
  }

  /** Tells JetStream each held job is still being worked on (`+WPI`). */
  #renewLeases(): void {
    for (const msg of this.#leases) {
      try {
        msg.working();
      } catch {
        // Closed connection: nothing to renew; the stop or the reconnect
        // sorts it out.
      }
    }
  }

  #settleIdle(): void {
    if (this.#stopping && this.#active === 0 && this.#pulls === 0) {
      this.#idle?.();
    }
  }
}
