/**
 * An in-memory {@linkcode WorkQueue} for unit tests of the durable worker:
 * a pending list standing in for the stream, pull requests served in order
 * as JetStream serves them, and every settlement and report recorded in
 * one log so tests can check their order.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import {
  JobRequestSchema,
  type JobResult,
} from "../src/gen/cortex/v1/cortex_pb.ts";
import { decodePacket, encodePacket, packet } from "../src/bus/codec.ts";
import type { WorkMessage, WorkQueue } from "../src/bus/durable/work_queue.ts";

/** A job message as the fake delivers it, recording what the worker does with it. */
export class FakeMessage implements WorkMessage {
  readonly info: { deliveryCount: number };
  acked = false;
  termed = false;
  naks: (number | undefined)[] = [];
  renewed = 0;

  constructor(
    readonly data: Uint8Array,
    deliveryCount: number,
    readonly name: string,
    private readonly log: string[],
  ) {
    this.info = { deliveryCount };
  }

  get settled(): boolean {
    return this.acked || this.termed || this.naks.length > 0;
  }

  ack(): void {
    this.acked = true;
    this.log.push(`ack ${this.name}`);
  }

  nak(millis?: number): void {
    this.naks.push(millis);
    this.log.push(`nak ${this.name}`);
  }

  working(): void {
    this.renewed++;
  }

  term(): void {
    this.termed = true;
    this.log.push(`term ${this.name}`);
  }
}

interface OpenPull {
  left: number;
  push(message: FakeMessage): void;
  end(): void;
}

/** The fake queue. */
export class FakeWorkQueue implements WorkQueue {
  /** Every ack, nak, term and stored report, in order. */
  readonly log: string[] = [];
  /** Every message delivered. */
  readonly delivered: FakeMessage[] = [];
  /** The stored reports, decoded. */
  readonly reports: JobResult[] = [];
  /** Reports to refuse before storing again. */
  failReports = 0;
  /** Largest number of slots ever claimed: unsettled deliveries plus open request credit. */
  mostClaimed = 0;
  readonly #pending: FakeMessage[] = [];
  readonly #pulls: OpenPull[] = [];

  ready(): Promise<void> {
    return Promise.resolve();
  }

  /** What `cancelled()` answers: the ids a scheduler would list. */
  cancelledIds: string[] = [];

  cancelled(): Promise<string[]> {
    return Promise.resolve(this.cancelledIds);
  }

  /** Queues a job message (`deliveryCount` 1 unless said), delivered to the oldest open request. */
  add(
    jobId: string,
    { maxAttempts = 3, deliveryCount = 1, bytes }: {
      maxAttempts?: number;
      deliveryCount?: number;
      bytes?: Uint8Array;
    } = {},
  ): FakeMessage {
    const data = bytes ?? encodePacket(packet({
      case: "jobRequest",
      value: create(JobRequestSchema, {
        jobId,
        topic: "job.echo",
        maxAttempts,
        payload: new TextEncoder().encode(jobId),
      }),
    }, { senderId: "test", traceId: `t-${jobId}` }));
    const message = new FakeMessage(data, deliveryCount, jobId, this.log);
    this.#pending.push(message);
    this.#serve();
    return message;
  }

  pull(max: number, expiresMs: number): Promise<AsyncIterable<FakeMessage>> {
    const queued: FakeMessage[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const pull: OpenPull = {
      left: max,
      push: (m) => {
        queued.push(m);
        wake?.();
      },
      end: () => {
        ended = true;
        wake?.();
      },
    };
    const timer = setTimeout(() => this.#close(pull), expiresMs);
    this.#pulls.push(pull);
    this.#serve();
    async function* iterate(): AsyncGenerator<FakeMessage> {
      try {
        while (true) {
          if (queued.length > 0) {
            yield queued.shift()!;
            continue;
          }
          if (ended) return;
          await new Promise<void>((resolve) => wake = resolve);
        }
      } finally {
        clearTimeout(timer);
      }
    }
    return Promise.resolve(iterate());
  }

  async report(bytes: Uint8Array, msgId: string): Promise<void> {
    await Promise.resolve();
    if (this.failReports > 0) {
      this.failReports--;
      throw new Error("no response from the attempt stream");
    }
    const decoded = decodePacket(bytes);
    if (decoded.ok && decoded.packet.payload.case === "jobResult") {
      this.reports.push(decoded.packet.payload.value);
    }
    this.log.push(`report ${msgId}`);
  }

  #serve(): void {
    while (this.#pending.length > 0 && this.#pulls.length > 0) {
      const pull = this.#pulls[0];
      const message = this.#pending.shift()!;
      this.delivered.push(message);
      pull.left--;
      pull.push(message);
      if (pull.left === 0) this.#close(pull);
    }
    this.#measure();
  }

  #close(pull: OpenPull): void {
    const i = this.#pulls.indexOf(pull);
    if (i >= 0) this.#pulls.splice(i, 1);
    pull.end();
  }

  #measure(): void {
    const held = this.delivered.filter((m) => !m.settled).length;
    const credit = this.#pulls.reduce((n, p) => n + p.left, 0);
    this.mostClaimed = Math.max(this.mostClaimed, held + credit);
  }

  /** Records the slots claimed now (call it whenever the test looks). */
  measure(): number {
    this.#measure();
    return this.mostClaimed;
  }
}
