/**
 * Durable mode's intake: what a scheduler replica does with each
 * submission pulled from `CORTEX_SUBMIT`, each attempt report pulled from
 * `CORTEX_ATTEMPTS`, each result that arrives on core NATS, and each job
 * past its deadline. Every outcome goes through the ledger first (a create,
 * or a compare-and-set), so replicas and redeliveries record it once; only
 * then is anything published or acknowledged.
 *
 * A submission is acknowledged only once its job is stored in
 * `CORTEX_WORK` (or refused and recorded): a replica that dies before
 * leaves it to be redelivered, and the ledger entry, which keeps the
 * submission's stream sequence, tells the redelivery from a duplicate.
 *
 * @module
 */
import type { JsMsg } from "../bus/durable/client_types.ts";
import {
  createdAtMs,
  decodePacket,
  encodePacket,
  packet,
} from "../bus/codec.ts";
import type { BusPacket, JobRequest, JobResult } from "../bus/messages.ts";
import { RESULT } from "../bus/subjects.ts";
import { workMessageId, workSubject } from "../bus/durable/layout.ts";
import { finalState, isFinal, JobState } from "../contract/mod.ts";
import { type LedgerEntry, resultOf } from "./ledger.ts";
import {
  type Admission,
  admittedEntry,
  duplicateSubmission,
  recordAttempt,
  recordCoreResult,
  refusedEntry,
  timeOut,
} from "./ledger_changes.ts";
import { checkJob } from "./pipeline.ts";
import type { RetryOutcome } from "./service.ts";
import { retryByHand } from "./retry_by_hand.ts";
import { RecentIds } from "./recent_ids.ts";
import { boundedJob, clipped, MAX_PACKET_ID_BYTES } from "./validation.ts";

/**
 * Deliveries of an attempt report for a job the ledger does not show
 * before it is dropped, and the pause between them, in ms: about 2 s for a
 * lagging replica of the ledger's bucket to catch up.
 */
const UNKNOWN_JOB_DELIVERIES = 5;
const UNKNOWN_JOB_RETRY_MS = 500;

import type { CoreResultVerdict, IntakeParts, Route } from "./intake_parts.ts";
export type { CoreResultVerdict, IntakeParts, Route };

/** Final results remembered as published: 16x the reports in hand at once (max ack pending 1,024). */
const PUBLISHED_MEMORY = 16_384;

/**
 * Handles the messages of durable mode's intake.
 *
 * @example
 * ```ts
 * const intake = new DurableIntake(parts);
 * for await (const m of submissions) intake.admit(m).catch(() => m.nak(1_000));
 * ```
 */
export class DurableIntake {
  readonly #p: IntakeParts;
  readonly #clock: () => number;
  /** The jobs whose final result this replica published lately. */
  readonly #published = new RecentIds(PUBLISHED_MEMORY);

  /** An intake over `parts`. */
  constructor(parts: IntakeParts) {
    this.#p = parts;
    this.#clock = parts.clock ?? Date.now;
  }

  /**
   * One submission: refused (recorded, its result published), admitted
   * and dispatched, dispatched again (a redelivery of the submission that
   * admitted it), or a duplicate; then acknowledged. Throws when the
   * ledger or the stream cannot be reached: the caller naks it, to be
   * tried again.
   */
  async admit(m: JsMsg): Promise<void> {
    const decoded = decodePacket(m.data);
    if (!decoded.ok || decoded.packet.payload.case !== "jobRequest") {
      this.#p.log.warn(
        "dropped submission {seq}: {reason}",
        {
          seq: m.seq,
          reason: decoded.ok
            ? `a ${decoded.packet.payload.case} packet, not a job_request`
            : decoded.reason,
        },
      );
      m.term();
      return;
    }
    const message = decoded.packet;
    const job = message.payload.value as JobRequest;
    const now = this.#clock();
    const subject = this.#p.strategy.route(job);
    const admission: Admission = {
      traceId: message.traceId,
      submitter: message.senderId,
      createdAt: createdAtMs(message),
      submitSeq: m.seq,
      now,
      subject: this.#p.route(job.topic).durable
        ? workSubject(subject)
        : subject,
      maxAttempts: job.maxAttempts > 0 ? job.maxAttempts : this.#p.maxAttempts,
      deadline: now + this.#p.timeoutMs,
    };
    const refusal = checkJob(job, this.#p, {
      traceId: message.traceId,
      submitter: message.senderId,
    });
    if (refusal) {
      // What a refusal keeps is bounded whatever the job sent, as in core
      // mode (pipeline.ts): the entry, the log line and the result carry
      // clipped fields only, so a 100 KB id costs a few hundred bytes.
      const kept = boundedJob(job, this.#p.limits);
      const traceId = clipped(message.traceId, MAX_PACKET_ID_BYTES);
      const entry = refusedEntry(
        kept,
        {
          ...admission,
          traceId,
          submitter: clipped(message.senderId, MAX_PACKET_ID_BYTES),
        },
        refusal.state,
        refusal.reason,
      );
      this.#p.log.info(
        `job {job_id} ${
          refusal.state === JobState.DENIED ? "denied" : "refused"
        }: {reason} (trace {trace_id}, topic {topic})`,
        {
          job_id: kept.jobId,
          trace_id: traceId,
          topic: kept.topic,
          reason: refusal.reason,
        },
      );
      // Recorded when its id is free; published either way, as core mode does.
      if (kept.jobId !== "") await this.#p.ledger.create(entry);
      this.#publish(resultOf(entry), traceId);
      m.ack();
      return;
    }
    const entry = admittedEntry(job, admission);
    if (await this.#p.ledger.create(entry)) {
      await this.#dispatch(entry, message, m.data);
      m.ack();
      return;
    }
    const held = await this.#p.ledger.get(job.jobId);
    if (held && held.entry.submitSeq === m.seq) {
      // This very submission admitted it: a replica died before the ack.
      if (!isFinal(held.entry.state)) {
        await this.#dispatch(held.entry, message, m.data);
      } else if (held.entry.subject === "") {
        this.#publish(resultOf(held.entry), message.traceId);
      }
      m.ack();
      return;
    }
    const changed = await this.#p.ledger.change(
      job.jobId,
      duplicateSubmission,
    );
    const existing = changed?.entry ?? held?.entry;
    const final = existing && isFinal(existing.state);
    this.#p.log.info(
      final
        ? "job {job_id} submitted again after it ended {state}: not run twice; its result is sent again (trace {trace_id})"
        : "job {job_id} submitted again while {state}: not run twice (trace {trace_id})",
      {
        job_id: job.jobId,
        state: existing?.state ?? "unknown",
        trace_id: message.traceId,
      },
    );
    if (existing && final) {
      this.#publish(resultOf(existing), existing.traceId || message.traceId);
    }
    m.ack();
  }

  /**
   * One attempt report from a durable worker: recorded once (fenced by job
   * and attempt), its result published only when it ends the job, then
   * acknowledged. Throws when the ledger cannot be reached.
   */
  async record(m: JsMsg): Promise<void> {
    const decoded = decodePacket(m.data);
    if (!decoded.ok || decoded.packet.payload.case !== "jobResult") {
      this.#p.log.warn("dropped attempt report {seq}: {reason}", {
        seq: m.seq,
        reason: decoded.ok ? "not a job_result" : decoded.reason,
      });
      m.term();
      return;
    }
    const report = decoded.packet.payload.value as JobResult;
    const attempt = Math.max(1, report.attempts);
    const now = this.#clock();
    const outcome = await this.#p.ledger.change(
      report.jobId,
      (entry) => recordAttempt(entry, report, now),
    );
    if (!outcome) {
      // The report comes back a few times before the job is believed
      // gone. Ledger reads were direct gets then, answered by any replica
      // of the bucket, one that had not yet applied the job's creation
      // among them: a `deno task bench` cluster run without this left 26
      // of 60,000 jobs unfinished (likely that; the runs since left none).
      // Reads ask the stream leader now (ledger_store.ts); this stays for
      // a read that still misses the creation.
      if (m.info.deliveryCount < UNKNOWN_JOB_DELIVERIES) {
        m.nak(UNKNOWN_JOB_RETRY_MS);
        return;
      }
      this.#p.counters.lateResults++;
      this.#p.log.warn(
        "attempt {attempt} of job {job_id} reported, but the ledger does not hold the job (expired after CORTEX_HISTORY_MS?)",
        { attempt, job_id: report.jobId },
      );
      m.ack();
      return;
    }
    const { entry, changed } = outcome;
    if (!changed) {
      // Recorded already: a redelivery, its acknowledgement lost with a
      // replica or a nats-server restart. A replica that died between
      // recording and publishing took the result with it (publishes leave
      // in the next write), so a replica that has not published it itself
      // does now; one that has (its publish waits to be resent after a
      // reconnect) does not, so clients see the result once.
      this.#p.durable.duplicateDeliveries++;
      const last = entry.attempts.at(-1);
      if (
        isFinal(entry.state) && m.info.deliveryCount > 1 &&
        last?.attempt === attempt && !this.#published.has(entry.jobId)
      ) {
        this.#publishFinal(entry, report, attempt);
      }
      m.ack();
      return;
    }
    if (isFinal(entry.state)) this.#publishFinal(entry, report, attempt);
    m.ack();
  }

  /**
   * A result that arrived on core NATS (a core worker's): ends its job in
   * the ledger when the job was dispatched on the core route and is not
   * final. Anything else is counted and said why, not recorded. Nothing
   * is published: the worker published it.
   */
  async coreResult(result: JobResult): Promise<CoreResultVerdict> {
    const now = this.#clock();
    const outcome = await this.#p.ledger.change(
      result.jobId,
      (entry) => recordCoreResult(entry, result, now),
    );
    const counters = this.#p.counters;
    if (!outcome) {
      counters.unknownResults++;
      return "unknown_job";
    }
    if (outcome.changed) return "recorded";
    if (isFinal(outcome.entry.state)) {
      // Another replica publishing the outcome the ledger holds (every
      // replica sees every result): not a late result.
      if (
        outcome.entry.state === finalState(result.status) &&
        outcome.entry.workerId === result.workerId
      ) return "echo";
      counters.lateResults++;
      return "already_final";
    }
    counters.misroutedResults++;
    return "not_core_dispatched";
  }

  /**
   * Ends `jobId` as TIMEOUT when it is past its deadline and not final: a
   * compare-and-set, so of the replicas trying one wins and publishes.
   */
  async timeOut(jobId: string): Promise<void> {
    const now = this.#clock();
    const outcome = await this.#p.ledger.change(
      jobId,
      (entry) => timeOut(entry, now, this.#p.timeoutMs),
    );
    if (!outcome?.changed) return;
    const { entry } = outcome;
    this.#p.log.warn(
      "job {job_id} timed out after {timeout_ms} ms on {subject} (trace {trace_id}, topic {topic})",
      {
        job_id: entry.jobId,
        trace_id: entry.traceId,
        topic: entry.topic,
        subject: entry.subject,
        timeout_ms: this.#p.timeoutMs,
      },
    );
    this.#publish(resultOf(entry), entry.traceId);
  }

  /**
   * Starts a job that ended FAILED or TIMEOUT again, as new attempts of the
   * same id with its history kept: see {@linkcode retryByHand}.
   */
  retry(jobId: string, by: string): Promise<RetryOutcome> {
    return retryByHand(
      this.#p,
      (entry, message, raw) => this.#dispatch(entry, message, raw),
      { jobId, by, now: this.#clock() },
    );
  }

  /**
   * Sends the job to its subject: into `CORTEX_WORK` with message id
   * `<id>#work` (a second dispatch of it is dropped by the stream), awaited
   * until stored; or, on the core route, to its topic on core NATS. The
   * packet carries the job's max attempts, so workers need not know the
   * default.
   */
  async #dispatch(
    entry: LedgerEntry,
    message: BusPacket,
    raw: Uint8Array,
  ): Promise<void> {
    const job = message.payload.value as JobRequest;
    let bytes = raw;
    const base = entry.attemptBase ?? 0;
    if (job.maxAttempts !== entry.maxAttempts || job.attemptBase !== base) {
      job.maxAttempts = entry.maxAttempts;
      job.attemptBase = base;
      bytes = encodePacket(message);
    }
    if (entry.subject.startsWith(workSubject(""))) {
      await (this.#p.stored ?? this.#p.js).publish(entry.subject, bytes, {
        msgID: workMessageId(entry.jobId, entry.attemptBase ?? 0),
      });
    } else {
      this.#p.bus.publishRaw(entry.subject, bytes);
    }
  }

  #publishFinal(entry: LedgerEntry, report: JobResult, attempt: number): void {
    this.#published.add(entry.jobId);
    const result = resultOf(entry);
    result.output = report.output;
    result.attempts = attempt;
    this.#publish(result, entry.traceId);
  }

  #publish(result: JobResult, traceId: string): void {
    this.#p.bus.publish(
      RESULT,
      packet({ case: "jobResult", value: result }, {
        traceId,
        senderId: this.#p.senderId,
      }),
    );
  }
}
