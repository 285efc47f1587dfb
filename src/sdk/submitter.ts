// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * The client's one implementation of submitting, under `Cortex.submit`,
 * `Cortex.submitMany` (and so the submit CLI and the bench's load driver):
 * a job's packet, its send (core: probed for a scheduler, then published;
 * durable: stored by `CORTEX_SUBMIT`), the one result subscription that
 * hands each result to whoever awaits that job, and the ledger look-up of
 * results missed while reconnecting. Waits and bounds are its callers'.
 *
 * @module
 */
import { jetstream } from "npm:@nats-io/jetstream@^3.4.0";
import { decodePacket, newTraceId } from "../bus/codec.ts";
import type { NatsConnection } from "../bus/connect.ts";
import type { Durability } from "../bus/durable/mode.ts";
import type { JobResult } from "../bus/messages.ts";
import { RESULT, SUBMIT } from "../bus/subjects.ts";
import { readJobResult, resultJobId } from "../bus/wire/packet_reader.ts";
import { RequestEncoder, type RequestShape, TraceIds } from "./request.ts";
import {
  firstJob,
  JobStore,
  lookUpMissed,
  NO_STREAM,
  oversizeProblem,
} from "./wire.ts";

/**
 * A job whose outcome cannot arrive while other jobs' still can: it was
 * not stored (durable mode), or none came within the wait. `submit`
 * rejects with it; `submitMany` hands it to `onMissing` when given one.
 */
export class NoOutcomeError extends Error {
  /** The job's id. */
  readonly jobId: string;
  /** Why, in a few words: `not stored: …` or `no result within … ms`. */
  readonly why: string;

  /** `message` defaults to `job <id> <why>`. */
  constructor(jobId: string, why: string, message = `job ${jobId} ${why}`) {
    super(message);
    this.name = "NoOutcomeError";
    this.jobId = jobId;
    this.why = why;
  }
}

/** Who awaits some jobs' results: told of each one's result or failure, once. */
export interface Receiver {
  /** The job's result arrived, `roundTripMs` after it was sent. */
  result(result: JobResult, roundTripMs: number): void;
  /** The job's result cannot arrive (the Cortex closed). */
  fail(jobId: string, error: Error): void;
}

/** The longest job id read off a result before it is decoded. */
const PEEKED_ID_BYTES = 1024;

/** A job awaited: when it was sent, and who awaits it. */
interface Awaited {
  sentAt: number;
  to: Receiver;
}

/** Sends jobs over one connection and routes their results. One per `Cortex`. */
export class Submitter {
  /** The mode jobs go in. */
  readonly durability: Durability;
  readonly #nc: NatsConnection;
  readonly #senderId: string;
  readonly #js?: JobStore;
  /** Job id → who awaits it, oldest first: what the ledger look-up walks. */
  readonly #awaited = new Map<string, Awaited>();
  /** Outcomes found in the ledger after a reconnect, not on `sys.job.result`. */
  lookedUp = 0;
  readonly #stopLookUps = new AbortController();
  #lookUp?: Promise<void>;
  #schedulerSeen = false;
  #listening = false;
  /** Trace ids: a random 80-bit prefix and a 48-bit count, 32 hex digits. */
  readonly #traces = new TraceIds(newTraceId().slice(0, 20));
  /** When the connection was lost (`performance.now()`), while it is. */
  #downSince?: number;

  constructor(nc: NatsConnection, durability: Durability, senderId: string) {
    this.#nc = nc;
    this.durability = durability;
    this.#senderId = senderId;
    if (durability === "jetstream") this.#js = new JobStore(jetstream(nc));
    (async () => {
      for await (const status of nc.status()) {
        if (status.type === "disconnect") this.#downSince ??= performance.now();
        else if (status.type === "reconnect") this.#downSince = undefined;
      }
    })().catch(() => {});
  }

  /**
   * The error that ends a wait for job `jobId` while the connection is
   * lost: no job can be sent or answered until it is back. `undefined`
   * while connected.
   */
  outage(jobId: string, timeoutMs: number): Error | undefined {
    if (this.#downSince === undefined) return undefined;
    const seconds = ((performance.now() - this.#downSince) / 1000).toFixed(1);
    const stored = this.#js
      ? "jobs already stored still run when it is back"
      : "jobs sent and not answered may be lost";
    return new Error(
      `no connection to NATS at ${this.#nc.getServer()} for ${seconds} s (reconnecting): job ${jobId} had no outcome within ${timeoutMs} ms, and no job can be sent or answered until the server is back; ${stored}`,
    );
  }

  /**
   * The packet writer of jobs to `topic` with `priority` and `maxAttempts`
   * (wire numbers; 0 for none): each call writes one job's packet.
   *
   * @throws {Error} (each call) when a packet is larger than the server's
   * `max_payload`.
   */
  requests(
    shape: Omit<RequestShape, "senderId">,
  ): (jobId: string, payload: Uint8Array) => Uint8Array {
    const encoder = new RequestEncoder({ ...shape, senderId: this.#senderId });
    return (jobId, payload) => {
      // A counted trace id rather than a random one: this is the hot path.
      const bytes = encoder.encode(jobId, this.#traces, payload);
      const tooLarge = oversizeProblem(
        bytes.length,
        this.#nc.info?.max_payload,
        this.#nc.getServer(),
      );
      if (tooLarge) throw new Error(tooLarge);
      return bytes;
    };
  }

  /** Whether job `jobId`'s result is awaited here. */
  awaits(jobId: string): boolean {
    return this.#awaited.has(jobId);
  }

  /**
   * Sends one job, its result to go to `to` (none: sent without awaiting
   * it). Returns `undefined` when it went out at once (core mode once a
   * scheduler was seen), else a promise of why it cannot arrive, or
   * `undefined`: a {@linkcode NoOutcomeError} when only this job is lost
   * (not stored), another `Error` when no job can arrive (no scheduler, no
   * stream). `probeMs` bounds the request that looks for a scheduler;
   * `sentAt` is now, from `performance.now()`.
   */
  send(
    jobId: string,
    bytes: Uint8Array,
    to?: Receiver,
    probeMs = 1_000,
    sentAt = performance.now(),
  ): Promise<Error | undefined> | undefined {
    if (to) {
      this.#listen();
      this.#awaited.set(jobId, { sentAt, to });
    }
    if (this.#js) return this.#store(jobId, bytes);
    if (this.#schedulerSeen) {
      this.#nc.publish(SUBMIT, bytes);
      return undefined;
    }
    // Until a scheduler is seen, each job is a request, so the server says
    // at once when nothing listens on sys.job.submit.
    return firstJob(this.#nc, bytes, probeMs).then((listening) => {
      if (listening) {
        this.#schedulerSeen = true;
        return undefined;
      }
      return new Error(
        `no scheduler is listening on ${SUBMIT} at ${this.#nc.getServer()}: start one with \`deno task scheduler\``,
      );
    });
  }

  async #store(jobId: string, bytes: Uint8Array): Promise<Error | undefined> {
    const failed = await this.#js!.store(jobId, bytes);
    if (failed === NO_STREAM) {
      return new Error(
        `${NO_STREAM} at ${this.#nc.getServer()}: start the scheduler on this server once in durable mode (CORTEX_DURABILITY=auto or jetstream: it makes the streams), or submit in core mode (CORTEX_DURABILITY=none, or durability "none" in connect())`,
      );
    }
    return failed === undefined ? undefined : new NoOutcomeError(jobId, failed);
  }

  /** Resolves once the server has every job published so far. */
  flush(): Promise<void> {
    return this.#nc.flush();
  }

  /** Stops awaiting job `jobId` (its result, if it comes, is dropped). */
  forget(jobId: string): void {
    this.#awaited.delete(jobId);
  }

  /**
   * Subscribes to every job's result, once, on the first job awaited (and
   * in durable mode starts looking missed ones up in the ledger): a Cortex
   * that only serves topics (a worker process) is not sent every result in
   * the system, and needs no access to the ledger. No wait for the server
   * is needed: it takes a connection's subscription before the jobs
   * published after it.
   */
  #listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    this.#nc.subscribe(RESULT, {
      callback: (_error, msg) => {
        // Every result in the system comes here: one not awaited is dropped
        // on its id alone, before any decode. (An id the reader leaves to
        // the decoder is decoded and judged as ever.)
        const jobId = resultJobId(msg.data, PEEKED_ID_BYTES);
        if (jobId !== undefined && !this.#awaited.has(jobId)) return;
        // One of ours: its result alone is read, not the packet around it.
        const result = readJobResult(msg.data);
        if (result) {
          // The same id as the one peeked (resultJobId's contract), whose
          // hash the look-up above computed: a Map's first look-up of a
          // new 20-character string costs about 0.3 µs, which the result's
          // own copy of the id would cost again here and in submitMany.
          if (jobId !== undefined) result.jobId = jobId;
          this.#arrived(result);
          return;
        }
        const decoded = decodePacket(msg.data);
        if (!decoded.ok || decoded.packet.payload.case !== "jobResult") return;
        this.#arrived(decoded.packet.payload.value);
      },
    });
    if (this.#js) {
      this.#lookUp = lookUpMissed(
        this.#nc,
        this.#awaited,
        (result) => {
          if (this.#arrived(result)) this.lookedUp++;
        },
        this.#stopLookUps.signal,
      );
    }
  }

  #arrived(result: JobResult): boolean {
    const awaited = this.#awaited.get(result.jobId);
    if (!awaited) return false;
    this.#awaited.delete(result.jobId);
    // A result means a scheduler: later jobs need no probe.
    this.#schedulerSeen = true;
    awaited.to.result(result, performance.now() - awaited.sentAt);
    return true;
  }

  /** Stops the look-ups and fails every job still awaited. */
  async close(): Promise<void> {
    this.#stopLookUps.abort();
    await this.#lookUp;
    for (const [jobId, awaited] of this.#awaited) {
      this.#awaited.delete(jobId);
      awaited.to.fail(
        jobId,
        new Error(`this Cortex closed before job ${jobId}'s outcome arrived`),
      );
    }
  }
}
