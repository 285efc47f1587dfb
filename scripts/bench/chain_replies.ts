/**
 * Requests and stored publishes for the chain-shape bench's processes, with
 * one reply subscription (`_INBOX.<nuid>.*`) and one timeout sweep for all
 * of them, as CortexOS's durable processes make their stored writes
 * (src/bus/durable/stored_publish.ts explains why not nats.js's requests),
 * written again here so that the bench runs no CortexOS code.
 *
 * @module
 */
import {
  createInbox,
  headers,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
} from "@nats-io/nats-core";

/** How long an answer is awaited before the call fails. */
const TIMEOUT_MS = 10_000;

interface Waiting {
  resolve: (msg: Msg) => void;
  reject: (error: Error) => void;
  until: number;
}

/** JetStream headers of one stored publish. */
export interface StoreOptions {
  /** `Nats-Msg-Id`: dropped as a repeat within the dedupe window. */
  msgID?: string;
  /** `Nats-Expected-Last-Subject-Sequence` (0: the subject has no message yet). */
  lastSubjectSeq?: number;
  /** `Nats-Expected-Last-Sequence`: the stream's last sequence (a fence). */
  lastSeq?: number;
}

/** Requests and stored publishes over one connection. */
export class Replies {
  readonly #nc: NatsConnection;
  readonly #prefix = createInbox() + ".";
  readonly #waiting = new Map<string, Waiting>();
  readonly #timer: ReturnType<typeof setInterval>;
  #next = 0;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    nc.subscribe(this.#prefix + "*", {
      callback: (_error, msg) => {
        const token = msg.subject.slice(this.#prefix.length);
        const waiting = this.#waiting.get(token);
        if (!waiting) return;
        this.#waiting.delete(token);
        waiting.resolve(msg);
      },
    });
    this.#timer = setInterval(() => {
      const now = performance.now();
      for (const [token, w] of this.#waiting) {
        if (w.until > now) continue;
        this.#waiting.delete(token);
        w.reject(new Error("no answer in time"));
      }
    }, 1_000);
  }

  /** Publishes `data` with a reply subject; resolves with the first answer. */
  request(subject: string, data: Uint8Array, h?: MsgHdrs): Promise<Msg> {
    const token = (this.#next++).toString(36);
    const { promise, resolve, reject } = Promise.withResolvers<Msg>();
    this.#waiting.set(token, {
      resolve,
      reject,
      until: performance.now() + TIMEOUT_MS,
    });
    this.#nc.publish(subject, data, {
      reply: this.#prefix + token,
      headers: h,
    });
    return promise;
  }

  /**
   * Stores `data` on `subject` and resolves with its stream sequence.
   *
   * @throws when the stream refuses it (e.g. a wrong expected sequence).
   */
  async store(
    subject: string,
    data: Uint8Array,
    options: StoreOptions = {},
  ): Promise<number> {
    const h = headers();
    if (options.msgID !== undefined) h.set("Nats-Msg-Id", options.msgID);
    if (options.lastSubjectSeq !== undefined) {
      h.set("Nats-Expected-Last-Subject-Sequence", `${options.lastSubjectSeq}`);
    }
    if (options.lastSeq !== undefined) {
      h.set("Nats-Expected-Last-Sequence", `${options.lastSeq}`);
    }
    const ack = (await this.request(subject, data, h)).json<
      { seq?: number; error?: { description: string } }
    >();
    if (ack.error || ack.seq === undefined) {
      throw new Error(`${subject}: ${ack.error?.description ?? "no PubAck"}`);
    }
    return ack.seq;
  }

  /** Stops the timeout sweep. */
  close(): void {
    clearInterval(this.#timer);
  }
}
