/**
 * The {@linkcode Cortex} that `connect()` returns: submit jobs and await
 * their outcomes, and serve topics with handlers.
 *
 * @module
 */
import type { NatsConnection } from "../bus/connect.ts";
import type { Durability } from "../bus/durable/mode.ts";
import { priorityNumber } from "../contract/mod.ts";
import type { Logger } from "../log.ts";
import { NatsBus } from "../bus/bus.ts";
import { DEFAULT_TIMEOUT_MS, outcomeOf, submitMany, timedOut } from "./many.ts";
import { encodePayload } from "./payload.ts";
import { Submitter } from "./submitter.ts";
import type {
  Handler,
  JobOutcome,
  JobPriority,
  SubmitManyOptions,
  SubmitOptions,
  WorkerOptions,
} from "./types.ts";
import { CortexWorker } from "./worker.ts";

export { DEFAULT_TIMEOUT_MS };

/** Every Cortex of this process not closed yet: what {@linkcode closeEveryCortex} drains. */
const open = new Set<Cortex>();

/**
 * Closes (drains) every Cortex this process has open. `deno task worker
 * <file>` calls it on Ctrl-C or SIGTERM, so a worker file needs no signal
 * handling of its own: its workers finish their jobs and say they are
 * leaving.
 */
export async function closeEveryCortex(): Promise<void> {
  const closed = await Promise.allSettled([...open].map((c) => c.close()));
  const failed = closed.find((c) => c.status === "rejected");
  if (failed) throw failed.reason;
}

/** A connection to CortexOS: submits jobs and serves topics. Made by `connect()`. */
export class Cortex {
  /** The mode jobs go in: `jetstream` (durable) or `core`. */
  readonly durability: Durability;
  /** Resolves once the server has answered a first round trip. */
  readonly ready: Promise<void>;
  readonly #nc: NatsConnection;
  readonly #log: Logger;
  readonly #submitter: Submitter;
  readonly #workers = new Set<CortexWorker>();
  #bus?: NatsBus;
  #closed?: Promise<void>;

  /**
   * How many outcomes this client found in the ledger (durable mode) rather
   * than on `sys.job.result`: published while its connection was down.
   */
  get lookedUp(): number {
    return this.#submitter.lookedUp;
  }

  /**
   * Use `connect()`; or wrap a connection of your own, already resolved to
   * a mode, as the submit CLI and the bench do. `senderId` names the
   * client in the jobs' packets.
   */
  constructor(
    nc: NatsConnection,
    durability: Durability,
    log: Logger,
    senderId: string,
  ) {
    this.#nc = nc;
    this.durability = durability;
    this.#log = log;
    this.#submitter = new Submitter(nc, durability, senderId);
    this.ready = nc.flush();
    open.add(this);
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
   * @throws {NoOutcomeError} (rejects) when the job was not stored, or no
   * outcome arrived within `timeoutMs`.
   * @throws {Error} (rejects) when no job can arrive: no scheduler listens
   * (core), no stream stores jobs (durable), the job is too large,
   * `signal` aborted, the Cortex closed, or `timeoutMs` ran out while the
   * connection to NATS was lost.
   */
  submit(
    topic: string,
    payload: unknown,
    options: SubmitOptions = {},
  ): Promise<JobOutcome> {
    return new Promise<JobOutcome>((resolve, reject) => {
      if (this.#closed) throw new Error("this Cortex is closed");
      const jobId = options.jobId ?? `job-${crypto.randomUUID()}`;
      if (this.#submitter.awaits(jobId)) {
        throw new Error(`job ${jobId} is already awaited by this Cortex`);
      }
      const bytes = this.#requests(topic, options)(jobId, payload);
      const signal = options.signal;
      signal?.throwIfAborted();

      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(
        () =>
          fail(
            this.#submitter.outage(jobId, timeoutMs) ??
              timedOut(jobId, topic, timeoutMs),
          ),
        timeoutMs,
      );
      const onAbort = () => fail(signal!.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      let settled = false;
      const settle = () => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#submitter.forget(jobId);
        return true;
      };
      const fail = (error: Error) => {
        if (settle()) reject(error);
      };
      this.#submitter.send(jobId, bytes, {
        result: (result, roundTripMs) => {
          if (settle()) resolve(outcomeOf(result, roundTripMs));
        },
        fail: (_jobId, error) => fail(error),
      })?.then((problem) => {
        if (problem) fail(problem);
      }, fail);
    });
  }

  /**
   * Submits one job per payload, at most `concurrency` (default 100)
   * awaiting their outcomes at once, and yields the outcomes as they arrive
   * (not in payload order). `payloads` is read only as room frees up. Each
   * job takes the other options as `submit` does; its id is
   * `jobId(index)` (default `job-<uuid>`).
   *
   * A job whose outcome cannot arrive ({@linkcode NoOutcomeError}: not
   * stored, or none within `timeoutMs`) goes to `onMissing` when given,
   * and the others go on; without it, it ends the iteration with that
   * error. An error that concerns every job (no scheduler, no stream, too
   * large, `signal` aborted, the Cortex closed, a job's `timeoutMs` run
   * out while the connection to NATS is lost) ends it always; jobs
   * already sent still run. With `wait: false` it yields nothing: it
   * returns once every job is sent (core: flushed to the server; durable:
   * stored).
   *
   * @throws {TypeError} for a payload with no JSON form or an unknown priority.
   * @example
   * ```ts
   * for await (const outcome of cortex.submitMany("job.echo", ["a", "b"])) {
   *   console.log(outcome.jobId, outcome.status);
   * }
   * ```
   */
  submitMany(
    topic: string,
    payloads: Iterable<unknown> | AsyncIterable<unknown>,
    options: SubmitManyOptions = {},
  ): AsyncGenerator<JobOutcome, void, undefined> {
    if (this.#closed) throw new Error("this Cortex is closed");
    return submitMany(
      this.#submitter,
      this.#requests(topic, options),
      topic,
      payloads,
      options,
    );
  }

  /**
   * The packet writer of a call's jobs, from the options they share.
   *
   * @throws {TypeError} for an unknown priority (and, from the writer, a
   * payload with no JSON form).
   */
  #requests(
    topic: string,
    options: { priority?: JobPriority; maxAttempts?: number },
  ): (jobId: string, payload: unknown) => Uint8Array {
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
    const write = this.#submitter.requests({
      topic,
      priority,
      maxAttempts: options.maxAttempts ?? 0,
    });
    return (jobId, payload) => write(jobId, encodePayload(payload));
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
      open.delete(this);
      await Promise.all([...this.#workers].map((w) => w.stop()));
      await this.#submitter.close();
      // Draining needs the server; without a connection there is nothing
      // left to flush, so the connection is just closed.
      await this.#nc.drain().catch(() => this.#nc.close());
    })();
    return this.#closed;
  }

  /** {@linkcode Cortex.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
