// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * A topic's durable work queue as a worker sees it: pull requests on the
 * topic's consumer of {@linkcode WORK_STREAM}, and attempt reports stored
 * in {@linkcode ATTEMPT_STREAM}. The worker runtime knows only the
 * {@linkcode WorkQueue} interface (tests give it a fake);
 * {@linkcode JetStreamWorkQueue} is the real one.
 *
 * @module
 */
import type * as js from "npm:@nats-io/jetstream@^3.4.0";
import {
  AckPolicy,
  type Consumer,
  DeliverPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  jetstreamManager,
} from "npm:@nats-io/jetstream@^3.4.0";
import { nanos } from "npm:@nats-io/nats-core@^3.4.0";
import type { NatsConnection } from "../connect.ts";
import { sleep } from "../../sleep.ts";
import { StoredPublisher } from "./stored_publish.ts";
import { CANCELLED } from "../subjects.ts";
import { coalesceWrites } from "./coalesced_writes.ts";
import { errorMessage, type Logger } from "../../log.ts";
import {
  ATTEMPT_STREAM,
  ATTEMPT_SUBJECT,
  type JetStreamManager,
  WORK_STREAM,
  workConsumer,
  workSubject,
} from "./layout.ts";

/** A consumer's configuration: `@nats-io/jetstream`'s own type. */
export type ConsumerConfig = js.ConsumerConfig;

/**
 * One job message pulled from the work stream: its bytes, which delivery
 * this is, and how it is settled. A nats.js `JsMsg` is one as it is.
 */
export interface WorkMessage {
  /** The encoded `BusPacket{job_request}`. */
  readonly data: Uint8Array;
  /** `deliveryCount`: 1 for the first delivery; the attempt number. */
  readonly info: { readonly deliveryCount: number };
  /** Done: the stream forgets it. */
  ack(): void;
  /** Hand it back, to be delivered again after `millis` (default at once). */
  nak(millis?: number): void;
  /** Still working on it: its ack wait starts again (`+WPI`). */
  working(): void;
  /** Never deliver it again (it cannot be run). */
  term(reason?: string): void;
}

/** Where a durable worker takes its jobs from and reports its attempts to. */
export interface WorkQueue {
  /**
   * Waits until the work stream exists, then makes sure the topic's
   * consumer does (created or brought to this worker's settings). Resolves
   * early, doing nothing more, when `signal` aborts.
   */
  ready(signal: AbortSignal): Promise<void>;
  /**
   * Asks for up to `max` messages; the iterable yields them as they come
   * and ends when `max` came or `expiresMs` passed. Its iterator throws
   * when the consumer or stream is gone or the server stopped answering.
   */
  pull(max: number, expiresMs: number): Promise<AsyncIterable<WorkMessage>>;
  /**
   * Publishes an attempt report (an encoded `BusPacket{job_result}`) with
   * message id `msgId`; resolves once the attempt stream has stored it.
   *
   * @throws when it was not acknowledged as stored (NATS down, timeout).
   */
  report(bytes: Uint8Array, msgId: string): Promise<void>;
  /**
   * The ids of jobs cancelled before this worker listened (asked of a
   * scheduler on `sys.cancelled`); empty when no scheduler answers within
   * a second. Absent: nothing to ask (tests).
   */
  cancelled?(): Promise<string[]>;
}

/**
 * The most deliveries of one job message before JetStream stops
 * redelivering it: a safety cap only. Workers end a job by its own
 * `max_attempts` (at most this many) long before.
 */
export const MAX_DELIVER = 100;

/**
 * Unacknowledged jobs the topic's consumer allows across all its workers.
 * Each worker holds at most its concurrency, so this only has to be above
 * the sum of a pool's concurrency: 20,000 is 200 workers of 100.
 */
export const MAX_ACK_PENDING = 20_000;

/** How long a worker waits for the attempt stream to say it stored a report, in ms. */
const REPORT_TIMEOUT_MS = 2_000;

/** The configuration of the pull consumer serving `topic`. */
export function workConsumerConfig(
  topic: string,
  ackWaitMs: number,
): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: workConsumer(topic),
    filter_subject: workSubject(topic),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ackWaitMs),
    max_deliver: MAX_DELIVER,
    max_ack_pending: MAX_ACK_PENDING,
  };
}

/** Options of {@linkcode JetStreamWorkQueue}. */
export interface JetStreamWorkQueueOptions {
  /** The topic served (`job.echo`). */
  topic: string;
  /** The consumer's ack wait: a job's lease without a sign of life, in ms. */
  ackWaitMs: number;
  /** Where waiting and failures are logged. */
  log: Logger;
  /** How often to look for the work stream while it is missing, in ms. Default 250. */
  pollMs?: number;
}

/**
 * The {@linkcode WorkQueue} of one topic over a NATS connection with
 * JetStream.
 *
 * @example
 * ```ts
 * const queue = new JetStreamWorkQueue(nc, { topic: "job.echo", ackWaitMs: 5_000, log });
 * await queue.ready(AbortSignal.timeout(10_000));
 * ```
 */
export class JetStreamWorkQueue implements WorkQueue {
  readonly #nc: NatsConnection;
  readonly #o: JetStreamWorkQueueOptions;
  readonly #js: JetStreamClient;
  /** Reports are written through it: see `stored_publish.ts`. */
  readonly #stored: StoredPublisher;
  #jsm?: JetStreamManager;
  #consumer?: Consumer;

  /** A queue for `options.topic` over `nc`; nothing is asked of the server until {@linkcode JetStreamWorkQueue.ready}. */
  constructor(nc: NatsConnection, options: JetStreamWorkQueueOptions) {
    this.#nc = nc;
    this.#o = options;
    this.#js = jetstream(nc);
    // 2 s rather than the client's 5 s: an answer lost to a reconnect (a
    // cluster node killed) is asked again sooner; the stream stores one in
    // milliseconds, and the message id makes a repeat harmless.
    this.#stored = new StoredPublisher(nc, { timeoutMs: REPORT_TIMEOUT_MS });
    // A durable worker's reports and acks leave in one write per turn.
    coalesceWrites(nc);
  }

  async ready(signal: AbortSignal): Promise<void> {
    const { log, topic } = this.#o;
    const pollMs = this.#o.pollMs ?? 250;
    let said = false;
    while (!signal.aborted) {
      try {
        // A short request timeout: a request lost to a reconnect is asked
        // again after 2 s, not the client's default 5 s.
        this.#jsm ??= await jetstreamManager(this.#nc, { timeout: 2_000 });
        await this.#jsm.streams.info(WORK_STREAM);
        await this.#ensureConsumer(this.#jsm);
        if (said) log.info("stream {stream} is there", { stream: WORK_STREAM });
        return;
      } catch (error) {
        // Polled rather than watched: the stream appears once, when the
        // first scheduler starts, and 250 ms keeps "serves within 1 s of
        // it" with room to spare at one cheap request per poll.
        if (!said) {
          said = true;
          if (isApiError(error, JetStreamApiCodes.StreamNotFound)) {
            log.info(
              "waiting for stream {stream} (a scheduler in durable mode makes it at start) to take {topic}",
              { stream: WORK_STREAM, topic },
            );
          } else {
            log.warn(
              "cannot set up the durable consumer of {topic} yet, trying again: {error}",
              { topic, error: errorMessage(error) },
            );
          }
        }
        await sleep(pollMs, signal);
      }
    }
  }

  async pull(
    max: number,
    expiresMs: number,
  ): Promise<AsyncIterable<WorkMessage>> {
    if (!this.#consumer) throw new Error("the work queue is not ready yet");
    return await this.#consumer.fetch({
      max_messages: max,
      expires: expiresMs,
    });
  }

  async report(bytes: Uint8Array, msgId: string): Promise<void> {
    await this.#stored.publish(ATTEMPT_SUBJECT, bytes, {
      msgID: msgId,
      // A report stored anywhere else would never reach a scheduler.
      expectStream: ATTEMPT_STREAM,
    });
  }

  async cancelled(): Promise<string[]> {
    try {
      const reply = await this.#nc.request(CANCELLED, new Uint8Array(0), {
        timeout: 1_000,
      });
      const ids = (reply.json() as { jobIds?: unknown }).jobIds;
      return Array.isArray(ids)
        ? ids.filter((id): id is string => typeof id === "string")
        : [];
    } catch (error) {
      // No scheduler yet (or an old one): nothing was cancelled that it
      // could know of; the live notices cover what comes next.
      this.#o.log.debug("no list of cancelled jobs: {error}", {
        error: errorMessage(error),
      });
      return [];
    }
  }

  /**
   * Creates the topic's consumer, or brings an existing one to this
   * worker's ack wait and limits: every worker of a topic runs this at
   * start, and a new topic gets its consumer when its first worker comes.
   */
  async #ensureConsumer(jsm: JetStreamManager): Promise<void> {
    const { topic, ackWaitMs } = this.#o;
    const config = workConsumerConfig(topic, ackWaitMs);
    const name = config.durable_name;
    let existing: ConsumerConfig | undefined;
    try {
      existing = (await jsm.consumers.info(WORK_STREAM, name)).config;
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    }
    if (!existing) {
      try {
        await jsm.consumers.add(WORK_STREAM, config);
      } catch (error) {
        // Another worker of the topic made it meanwhile: use theirs,
        // brought to these settings below.
        existing = (await jsm.consumers.info(WORK_STREAM, name)).config;
        if (!existing) throw error;
      }
    }
    if (
      existing && (existing.ack_wait !== config.ack_wait ||
        existing.max_deliver !== config.max_deliver ||
        existing.max_ack_pending !== config.max_ack_pending)
    ) {
      await jsm.consumers.update(WORK_STREAM, name, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        max_ack_pending: config.max_ack_pending,
      });
    }
    this.#consumer = await this.#js.consumers.get(WORK_STREAM, name);
  }
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}
