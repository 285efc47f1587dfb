/**
 * The `Bus` the scheduler and workers talk to, and its NATS implementation.
 *
 * Only this module and `connect.ts` know NATS; the scheduler's core knows the
 * {@linkcode Bus} interface, so it is testable with an in-memory bus.
 *
 * @module
 */
import type { BusPacket } from "./messages.ts";
import type { Logger } from "../log.ts";
import type { NatsConnection } from "./connect.ts";
import { decodePacket, encodeSharedPacket } from "./codec.ts";
import { BoundedWarnings } from "../bounded_warnings.ts";

/** Receives one decoded packet; `raw` is its wire bytes, valid during the call. */
export type PacketHandler = (
  message: BusPacket,
  raw: Uint8Array,
  subject: string,
) => void;

/** Options of {@linkcode Bus.subscribe}. */
export interface SubscribeOptions {
  /** A queue group: each message goes to one member of the group. */
  queue?: string;
  /**
   * Looks at each packet's bytes before they are decoded; `false` drops the
   * packet undecoded (the screen has counted or logged it as it sees fit).
   * For packets refused by a field or two, e.g. heartbeats from worker ids
   * the registry has no room for, which a peer can send by the thousand.
   */
  screen?: (raw: Uint8Array) => boolean;
}

/** A message bus carrying BusPackets. */
export interface Bus {
  /** Encodes and publishes `message` on `subject`. */
  publish(subject: string, message: BusPacket): void;
  /** Publishes bytes that are already an encoded BusPacket (forwarding). */
  publishRaw(subject: string, bytes: Uint8Array): void;
  /**
   * Calls `handler` for every packet on `subject` that decodes; bytes that do
   * not decode are counted and logged, never passed on, and an exception in
   * `handler` is logged, never ends the subscription.
   */
  subscribe(
    subject: string,
    handler: PacketHandler,
    options?: SubscribeOptions,
  ): { unsubscribe(): void };
  /** Resolves once the server has processed everything sent so far (e.g. subscriptions). */
  flush(): Promise<void>;
  /** Whether the bus is connected right now. */
  readonly connected: boolean;
  /** How many packets did not decode since start. */
  readonly undecodable: number;
}

/**
 * A {@linkcode Bus} over one NATS connection.
 *
 * Undecodable packets are logged at most five times per 10 s, then
 * summarised, so a peer spraying garbage cannot flood the log.
 */
export class NatsBus implements Bus {
  #nc: NatsConnection;
  #log: Logger;
  #undecodable = 0;
  readonly #warnings: BoundedWarnings;

  #connectedNow = true;

  /** A bus over `nc`, logging to `log`; it watches `nc`'s status to know when it is connected. */
  constructor(nc: NatsConnection, log: Logger) {
    this.#nc = nc;
    this.#log = log;
    this.#warnings = new BoundedWarnings(log, "undecodable packets");
    this.#watch();
  }

  get connected(): boolean {
    return this.#connectedNow && !this.#nc.isClosed();
  }

  get undecodable(): number {
    return this.#undecodable;
  }

  publish(subject: string, message: BusPacket): void {
    // Shared-chunk bytes: the client copies them into one frame with the
    // command at its next write (it holds them only until then, or while
    // disconnected), so no array of their own per packet.
    this.publishRaw(subject, encodeSharedPacket(message));
  }

  publishRaw(subject: string, bytes: Uint8Array): void {
    try {
      this.#nc.publish(subject, bytes);
    } catch (error) {
      this.#log.error("cannot publish to {subject}: {error}", {
        subject,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  subscribe(
    subject: string,
    handler: PacketHandler,
    options: SubscribeOptions = {},
  ): { unsubscribe(): void } {
    // Without wildcards every message's subject is the subscription's: pass
    // that, rather than have the client decode each message's subject bytes.
    const fixedSubject = subject.includes("*") || subject.includes(">")
      ? undefined
      : subject;
    const screen = options.screen;
    const sub = this.#nc.subscribe(subject, {
      queue: options.queue,
      callback: (error, msg) => {
        if (error) {
          this.#log.error("subscription {subject} failed: {error}", {
            subject,
            error: error.message,
          });
          return;
        }
        const data = msg.data;
        try {
          if (screen !== undefined && !screen(data)) return;
        } catch (error) {
          // A broken screen lets the packet through to be judged whole.
          this.#log.error("screening a packet on {subject} failed: {error}", {
            subject,
            error: error instanceof Error ? error.message : String(error),
          });
        }
        const decoded = decodePacket(data);
        if (!decoded.ok) {
          this.#rejected(msg.subject, data.length, decoded.reason);
          return;
        }
        try {
          handler(decoded.packet, data, fixedSubject ?? msg.subject);
        } catch (error) {
          this.#log.error("handler for {subject} failed: {error}", {
            subject: msg.subject,
            error: error instanceof Error
              ? error.stack ?? error.message
              : String(error),
          });
        }
      },
    });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  async #watch(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === "disconnect") this.#connectedNow = false;
      if (status.type === "reconnect") this.#connectedNow = true;
    }
  }

  /** Flushes what is pending to the server. */
  async flush(): Promise<void> {
    await this.#nc.flush();
  }

  /** Stops the subscriptions, delivers what is in flight, then closes. */
  async drain(): Promise<void> {
    if (this.#nc.isClosed() || this.#nc.isDraining()) return;
    await this.#nc.drain();
  }

  #rejected(subject: string, size: number, reason: string): void {
    this.#undecodable++;
    this.#warnings.warn(
      "dropped an undecodable packet on {subject} ({size} bytes): {reason}",
      { subject, size, reason },
    );
  }
}
