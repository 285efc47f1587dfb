// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * Publishing into a stream and waiting for its PubAck, for durable mode's
 * hot path (the scheduler's ledger writes and dispatches, the workers'
 * attempt reports): the same protocol as nats.js's `js.publish` (a core
 * publish with a reply subject and JetStream headers; the server answers
 * once the message is stored), but with one shared reply subscription and
 * one timer for every publish in flight.
 *
 * Why not `js.publish`: nats.js 3.4 makes each one a request with a timer
 * of its own and, after every successful request, an `Error` with a stack
 * trace (`RequestError("cancelled")` on the settled promise); measured in
 * the durable scheduler's profile, that and the request's bookkeeping were
 * about a third of its NATS client time (docs/performance.md).
 *
 * Errors are nats.js's own (`JetStreamApiError` with the server's code),
 * so callers that test for, e.g., a wrong last sequence work unchanged.
 *
 * @module
 */
import { JetStreamApiError } from "npm:@nats-io/jetstream@^3.4.0";
import {
  createInbox,
  headers,
  type Msg,
  type NatsConnection,
  type Subscription,
} from "npm:@nats-io/nats-core@^3.4.0";

/** What a stream says once it has stored a message. */
export interface StoredAck {
  /** The stream that stored it. */
  stream: string;
  /** Its sequence in that stream (a KV entry's revision). */
  seq: number;
  /** It was a repeat of a message id the stream still remembers: not stored again. */
  duplicate: boolean;
}

/** Options of one {@linkcode StoredPublisher.publish}. */
export interface StoredPublishOptions {
  /** `Nats-Msg-Id`: the stream drops a repeat within its dedupe window. */
  msgID?: string;
  /** `Nats-Expected-Stream`: stored only by this stream. */
  expectStream?: string;
  /** `Nats-Expected-Last-Subject-Sequence`: a compare-and-set on the subject (0: no message yet). */
  expectLastSubjectSequence?: number;
}

/** A publish that got no PubAck in time (the server or stream is away). */
export class StoredPublishTimeout extends Error {
  /** Shown before the message in logs and stack traces. */
  override name = "StoredPublishTimeout";
}

/** nats.js's default request timeout, the same for every publish here. */
const DEFAULT_TIMEOUT_MS = 5_000;

interface Waiting {
  resolve: (ack: StoredAck) => void;
  reject: (error: Error) => void;
  /** When it is given up on (ms, `performance.now()`). */
  until: number;
  subject: string;
}

/**
 * Publishes into streams and resolves once stored.
 *
 * @example
 * ```ts
 * const stored = new StoredPublisher(nc);
 * const ack = await stored.publish("cortex.attempt", bytes, { msgID: "job-1#1" });
 * stored.close();
 * ```
 */
export class StoredPublisher {
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  readonly #prefix: string;
  readonly #waiting = new Map<string, Waiting>();
  #sub?: Subscription;
  #timer?: ReturnType<typeof setInterval>;
  #next = 0;

  /** A publisher over `nc`; it subscribes to its reply subjects on first use. */
  constructor(nc: NatsConnection, options: { timeoutMs?: number } = {}) {
    this.#nc = nc;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // `_INBOX.<nuid>.`: the roles let every process subscribe to `_INBOX.>`.
    this.#prefix = createInbox() + ".";
  }

  /** PubAcks awaited now. */
  get pending(): number {
    return this.#waiting.size;
  }

  /**
   * Publishes `data` on `subject` and resolves once a stream stored it.
   *
   * @throws {JetStreamApiError} the stream refused it (e.g. a wrong last
   * sequence), {@linkcode StoredPublishTimeout} without an answer in time,
   * or nats.js's error when the connection is closed.
   */
  publish(
    subject: string,
    data: Uint8Array,
    options: StoredPublishOptions = {},
  ): Promise<StoredAck> {
    this.#start();
    const token = (this.#next++).toString(36);
    const h = headers();
    if (options.msgID !== undefined) h.set("Nats-Msg-Id", options.msgID);
    if (options.expectStream !== undefined) {
      h.set("Nats-Expected-Stream", options.expectStream);
    }
    if (options.expectLastSubjectSequence !== undefined) {
      h.set(
        "Nats-Expected-Last-Subject-Sequence",
        String(options.expectLastSubjectSequence),
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<StoredAck>();
    this.#waiting.set(token, {
      resolve,
      reject,
      until: performance.now() + this.#timeoutMs,
      subject,
    });
    try {
      this.#nc.publish(subject, data, {
        reply: this.#prefix + token,
        headers: h,
      });
    } catch (error) {
      this.#waiting.delete(token);
      reject(error as Error);
    }
    return promise;
  }

  /** Stops listening; publishes still waiting are rejected. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    const closed = new Error("the stored publisher was closed");
    for (const w of this.#waiting.values()) w.reject(closed);
    this.#waiting.clear();
  }

  #start(): void {
    if (this.#sub) return;
    this.#sub = this.#nc.subscribe(this.#prefix + "*", {
      callback: (error, msg) => {
        if (error) return this.#failAll(error);
        this.#answer(msg);
      },
    });
    // One timer for all: a publish is given up on between its timeout and
    // a quarter more, which is all a timeout needs here.
    const every = Math.max(50, Math.floor(this.#timeoutMs / 4));
    this.#timer = setInterval(() => this.#expire(), every);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  #answer(msg: Msg): void {
    const token = msg.subject.slice(this.#prefix.length);
    const w = this.#waiting.get(token);
    if (!w) return; // given up on already
    this.#waiting.delete(token);
    if (msg.headers?.code === 503) {
      w.reject(
        new Error(
          `no stream stores ${w.subject} (no responders): is JetStream there?`,
        ),
      );
      return;
    }
    try {
      const v = JSON.parse(msg.string()) as {
        stream?: string;
        seq?: number;
        duplicate?: boolean;
        error?: { code: number; err_code: number; description: string };
      };
      if (v.error) {
        w.reject(new JetStreamApiError(v.error));
      } else if (!v.stream) {
        w.reject(new Error(`invalid PubAck for ${w.subject}`));
      } else {
        w.resolve({
          stream: v.stream,
          seq: v.seq ?? 0,
          duplicate: v.duplicate === true,
        });
      }
    } catch (error) {
      w.reject(error as Error);
    }
  }

  #expire(): void {
    const now = performance.now();
    // Every publish waits the same time, so the map (in insertion order)
    // is in order of deadline: the first one not due ends the sweep.
    for (const [token, w] of this.#waiting) {
      if (w.until > now) return;
      this.#waiting.delete(token);
      w.reject(
        new StoredPublishTimeout(
          `no PubAck for ${w.subject} within ${this.#timeoutMs} ms`,
        ),
      );
    }
  }

  #failAll(error: Error): void {
    for (const w of this.#waiting.values()) w.reject(error);
    this.#waiting.clear();
  }
}
