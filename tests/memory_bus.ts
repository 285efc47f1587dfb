/**
 * An in-memory {@linkcode Bus} for unit tests of the scheduler and worker
 * cores: synchronous delivery, NATS subject matching, queue groups (each
 * message to one member), and the same decode-or-count rule as `NatsBus`.
 *
 * @module
 */
import type { BusPacket } from "../src/gen/cortex/v1/cortex_pb.ts";
import type { Bus, PacketHandler, SubscribeOptions } from "../src/bus/bus.ts";
import { decodePacket, encodePacket } from "../src/bus/codec.ts";
import { subjectMatches } from "../src/bus/subjects.ts";

interface Sub {
  subject: string;
  handler: PacketHandler;
  queue?: string;
  screen?: (raw: Uint8Array) => boolean;
}

/** A published message, as the bus saw it. */
export interface Sent {
  subject: string;
  packet: BusPacket;
}

/** The in-memory bus. `sent` records every publish, decoded. */
export class MemoryBus implements Bus {
  readonly sent: Sent[] = [];
  connected = true;
  #undecodable = 0;
  #subs: Sub[] = [];

  get undecodable(): number {
    return this.#undecodable;
  }

  publish(subject: string, message: BusPacket): void {
    this.publishRaw(subject, encodePacket(message));
  }

  publishRaw(subject: string, bytes: Uint8Array): void {
    const decoded = decodePacket(bytes);
    if (decoded.ok) this.sent.push({ subject, packet: decoded.packet });
    const groups = new Set<string>();
    for (const sub of [...this.#subs]) {
      if (!subjectMatches(sub.subject, subject)) continue;
      if (sub.queue) {
        if (groups.has(sub.queue)) continue;
        groups.add(sub.queue);
      }
      if (sub.screen !== undefined && !sub.screen(bytes)) continue;
      if (!decoded.ok) {
        this.#undecodable++;
        continue;
      }
      sub.handler(decoded.packet, bytes, subject);
    }
  }

  subscribe(
    subject: string,
    handler: PacketHandler,
    options: SubscribeOptions = {},
  ): { unsubscribe(): void } {
    const sub = {
      subject,
      handler,
      queue: options.queue,
      screen: options.screen,
    };
    this.#subs.push(sub);
    return {
      unsubscribe: () => this.#subs = this.#subs.filter((s) => s !== sub),
    };
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** The packets published on `subject`. */
  on(subject: string): BusPacket[] {
    return this.sent.filter((s) => s.subject === subject).map((s) => s.packet);
  }
}
