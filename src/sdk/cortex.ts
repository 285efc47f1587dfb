// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * The {@linkcode Cortex} that `connect()` returns: submit jobs and await
 * their outcomes, and serve topics with handlers.
 *
 * @module
 */
import { create } from "npm:@bufbuild/protobuf@^2.17.0";
import { jetstream } from "npm:@nats-io/jetstream@^3.4.0";
import { JobRequestSchema } from "../gen/cortex/v1/cortex_pb.ts";
import { NatsBus } from "../bus/bus.ts";
import {
  decodePacket,
  encodePacket,
  newTraceId,
  packet,
} from "../bus/codec.ts";
import type { NatsConnection } from "../bus/connect.ts";
import type { Durability } from "../bus/durable/mode.ts";
import type { JobResult } from "../bus/messages.ts";
import { RESULT, SUBMIT } from "../bus/subjects.ts";
import { finalState, priorityNumber } from "../contract/mod.ts";
import type { Logger } from "../log.ts";
import {
  decodeJson,
  decodeText,
  encodePayload,
  plainBytes,
} from "./payload.ts";
import type {
  Handler,
  JobOutcome,
  SubmitManyOptions,
  SubmitOptions,
  WorkerOptions,
} from "./types.ts";
import { CortexWorker } from "./worker.ts";
import {
  firstJob,
  JobStore,
  lookUpMissed,
  NO_STREAM,
  oversizeProblem,
} from "./wire.ts";

/** The default wait for a job's outcome: past the scheduler's 60 s job timeout. */
export const DEFAULT_TIMEOUT_MS = 65_000;

interface Pending {
  resolve(outcome: JobOutcome): void;
  reject(error: Error): void;
}

/** A connection to CortexOS: submits jobs and serves topics. Made by `connect()`. */
export class Cortex {
  /** The mode jobs go in: `jetstream` (durable) or `core`. */
  readonly durability: Durability;
  /** Resolves once the server has answered a first round trip. */
  readonly ready: Promise<void>;
  readonly #nc: NatsConnection;
  readonly #log: Logger;
  readonly #senderId: string;
  readonly #js?: JobStore;
  readonly #pending = new Map<string, Pending>();
  /** Job id → sent at (ms), oldest first: what the ledger look-up walks. */
  readonly #sentAt = new Map<string, number>();
  readonly #workers = new Set<CortexWorker>();
  readonly #stopLookUps = new AbortController();
  #lookUp?: Promise<void>;
  #bus?: NatsBus;
  #schedulerSeen = false;
  #listening = false;
  #closed?: Promise<void>;

  /** Use `connect()`. */
  constructor(
    nc: NatsConnection,
    durability: Durability,
    log: Logger,
    senderId: string,
  ) {
    this.#nc = nc;
    this.durability = durability;
    this.#log = log;
    this.#senderId = senderId;
    if (durability === "jetstream") this.#js = new JobStore(jetstream(nc));
    this.ready = nc.flush();
  }

  /**
   * Submits a job and resolves with its outcome, whatever its status
   * (FAILED is an outcome, not an exception). `payload` goes as is when it
   * is a `Uint8Array`, as UTF-8 when a string, as JSON otherwise.
   *
   * In durable mode the job is published through JetStream (its id as the
   * message id) and stored before this waits; an outcome missed (e.g.
   * while reconnecting) is found in the ledger.
   *
   * @throws {TypeError} (rejects) for a payload with no JSON form or an unknown priority.
   * @throws {Error} (rejects) when no outcome can arrive: no scheduler
   * listens (core), no stream stores jobs (durable), the job is too large,
   * none arrived within `timeoutMs`, `signal` aborted, or the Cortex closed.
   */
  submit(
    topic: string,
    payload: unknown,
    options: SubmitOptions = {},
  ): Promise<JobOutcome> {
    return new Promise<JobOutcome>((resolve, reject) => {
      if (this.#closed) throw new Error("this Cortex is closed");
      this.#listen();
      const jobId = options.jobId ?? `job-${crypto.randomUUID()}`;
      if (this.#pending.has(jobId)) {
        throw new Error(`job ${jobId} is already awaited by this Cortex`);
      }
      let priority = 0;
      if (options.priority !== undefined) {
        const number = priorityNumber(options.priority);
        if (number === undefined || number === 0) {
          throw new TypeError(
            `priority ${
              JSON.stringify(options.priority)
            }: expected "batch", "interactive" or "critical"`,
          );
        }
        priority = number;
      }
      const bytes = encodePacket(packet({
        case: "jobRequest",
        value: create(JobRequestSchema, {
          jobId,
          topic,
          priority,
          payload: encodePayload(payload),
          maxAttempts: options.maxAttempts ?? 0,
        }),
      }, { senderId: this.#senderId, traceId: newTraceId() }));
      const tooLarge = oversizeProblem(
        bytes.length,
        this.#nc.info?.max_payload,
        this.#nc.getServer(),
      );
      if (tooLarge) throw new Error(tooLarge);
      const signal = options.signal;
      signal?.throwIfAborted();

      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(
        () =>
          fail(
            new Error(
              `no outcome for job ${jobId} on ${topic} within ${timeoutMs} ms: is a worker serving ${topic}, and a scheduler running?`,
            ),
          ),
        timeoutMs,
      );
      const onAbort = () => fail(signal!.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      const forget = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#pending.delete(jobId);
        this.#sentAt.delete(jobId);
      };
      const fail = (error: Error) => {
        if (!this.#pending.has(jobId)) return;
        forget();
        reject(error);
      };
      this.#pending.set(jobId, {
        resolve: (outcome) => {
          forget();
          resolve(outcome);
        },
        reject: fail,
      });
      this.#sentAt.set(jobId, performance.now());
      this.#send(jobId, bytes).then((problem) => {
        if (problem) fail(new Error(problem));
      }, fail);
    });
  }

  /**
   * Submits one job per payload, at most `concurrency` (default 100)
   * awaiting their outcomes at once, and yields the outcomes as they arrive
   * (not in payload order). Each job takes the other options as `submit`
   * does, with its own id. The first job that rejects (see `submit`) ends
   * the iteration with its error; jobs already sent still run.
   *
   * @example
   * ```ts
   * for await (const outcome of cortex.submitMany("job.echo", ["a", "b"])) {
   *   console.log(outcome.jobId, outcome.status);
   * }
   * ```
   */
  async *submitMany(
    topic: string,
    payloads: Iterable<unknown> | AsyncIterable<unknown>,
    options: SubmitManyOptions = {},
  ): AsyncGenerator<JobOutcome, void, undefined> {
    const { concurrency = 100, ...each } = options;
    const limit = Math.max(1, Math.floor(concurrency));
    const done: ({ outcome: JobOutcome } | { error: unknown })[] = [];
    let inflight = 0;
    let wake: (() => void) | undefined;
    const settle = (entry: { outcome: JobOutcome } | { error: unknown }) => {
      done.push(entry);
      inflight--;
      const waiting = wake;
      wake = undefined;
      waiting?.();
    };
    const arrival = () => new Promise<void>((resolve) => wake = resolve);
    function* ready(): Generator<JobOutcome> {
      while (done.length > 0) {
        const entry = done.shift()!;
        if ("error" in entry) throw entry.error;
        yield entry.outcome;
      }
    }
    for await (const payload of payloads) {
      while (inflight >= limit && done.length === 0) await arrival();
      yield* ready();
      inflight++;
      this.submit(topic, payload, each).then(
        (outcome) => settle({ outcome }),
        (error) => settle({ error }),
      );
    }
    while (inflight > 0 || done.length > 0) {
      if (done.length === 0) await arrival();
      yield* ready();
    }
  }

  /** Sends one job; resolves why it cannot arrive, or `undefined`. */
  async #send(jobId: string, bytes: Uint8Array): Promise<string | undefined> {
    const server = this.#nc.getServer();
    if (this.#js) {
      const failed = await this.#js.store(jobId, bytes);
      if (failed === NO_STREAM) {
        return `${NO_STREAM} at ${server}: start the scheduler on this server once in durable mode (CORTEX_DURABILITY=auto or jetstream: it makes the streams), or connect with durability "none"`;
      }
      return failed && `job ${jobId} ${failed}`;
    }
    if (this.#schedulerSeen) {
      this.#nc.publish(SUBMIT, bytes);
      return undefined;
    }
    // Until a scheduler is seen, each job is a request, so the server says
    // at once when nothing listens on sys.job.submit.
    if (await firstJob(this.#nc, bytes, 1_000)) {
      this.#schedulerSeen = true;
      return undefined;
    }
    return `no scheduler is listening on ${SUBMIT} at ${server}: start one with \`deno task scheduler\``;
  }

  /**
   * Subscribes to every job's outcome, once, on the first submission (and
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
        const decoded = decodePacket(msg.data);
        if (!decoded.ok || decoded.packet.payload.case !== "jobResult") return;
        this.#settle(decoded.packet.payload.value);
      },
    });
    if (this.#js) {
      this.#lookUp = lookUpMissed(
        this.#nc,
        this.#sentAt,
        (result) => this.#settle(result),
        this.#stopLookUps.signal,
      );
    }
  }

  #settle(result: JobResult): void {
    this.#pending.get(result.jobId)?.resolve(outcomeOf(result));
  }

  /**
   * Serves `topic` with `handler` from the moment this resolves: joins the
   * pool (default: the topic's last segment), heartbeats, and runs up to
   * `concurrency` jobs at once.
   *
   * @throws {TypeError} (rejects) for a topic that is not a valid subject
   * or is reserved (`sys.`, `$`, ...).
   */
  async worker(
    topic: string,
    handler: Handler,
    options: WorkerOptions = {},
  ): Promise<CortexWorker> {
    if (this.#closed) throw new Error("this Cortex is closed");
    this.#bus ??= new NatsBus(this.#nc, this.#log);
    const worker = new CortexWorker(
      {
        nc: this.#nc,
        bus: this.#bus,
        durability: this.durability,
        log: this.#log,
      },
      topic,
      handler,
      options,
      (stopped) => this.#workers.delete(stopped),
    );
    this.#workers.add(worker);
    await worker.start();
    return worker;
  }

  /**
   * Drains: stops every worker (each finishes its jobs and says it is
   * leaving), rejects the submissions still waiting, and closes the
   * connection. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.all([...this.#workers].map((w) => w.stop()));
      this.#stopLookUps.abort();
      await this.#lookUp;
      for (const [jobId, pending] of this.#pending) {
        pending.reject(
          new Error(`this Cortex closed before job ${jobId}'s outcome arrived`),
        );
      }
      await this.#nc.drain();
    })();
    return this.#closed;
  }

  /** {@linkcode Cortex.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The public outcome of a `JobResult`. */
function outcomeOf(result: JobResult): JobOutcome {
  const output = plainBytes(result.output);
  return {
    jobId: result.jobId,
    status: finalState(result.status) as JobOutcome["status"],
    output,
    error: result.error,
    workerId: result.workerId,
    executionMs: Number(result.executionMs),
    attempts: result.attempts,
    text: () => decodeText(output),
    json: <T>() => decodeJson<T>(output),
  };
}
