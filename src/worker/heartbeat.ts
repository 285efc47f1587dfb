// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * A worker's heartbeats: who it is, what it holds, its CPU use, and the
 * session token that binds its id (docs/security.md). Apart from the
 * runtime to keep each file short.
 *
 * @module
 */
import { create } from "npm:@bufbuild/protobuf@^2.17.0";
import { cpuUsage } from "node:process";
import { HeartbeatSchema } from "../gen/cortex/v1/cortex_pb.ts";
import type { Bus } from "../bus/bus.ts";
import type { Heartbeat } from "../bus/messages.ts";
import { packet } from "../bus/codec.ts";
import { heartbeatSubject } from "../bus/subjects.ts";

/** Who a worker is, as each heartbeat says. */
export interface HeartbeatIdentity {
  /** The bus heartbeats go out on. */
  bus: Bus;
  /** Unique id of the worker. */
  workerId: string;
  /** Its pool: heartbeats go to `sys.heartbeat.<pool>`. */
  pool: string;
  /** Where it runs. */
  region: string;
  /** Its kind. */
  type: string;
  /** What it can do. */
  capabilities: string[];
  /** Jobs it runs at once. */
  concurrency: number;
  /** Whether it takes jobs from the durable work queue. */
  durable: boolean;
}

/**
 * Sends one worker's heartbeats.
 *
 * @example
 * ```ts
 * const beats = new HeartbeatSender(identity);
 * beats.send(false, 0);
 * ```
 */
export class HeartbeatSender {
  readonly #id: HeartbeatIdentity;
  #cpu = cpuUsage();
  #cpuAt = performance.now();
  /**
   * A random token drawn once per process and sent in every heartbeat: the
   * scheduler binds this worker's id to it, so a peer that does not know
   * it cannot change this worker or take it offline (docs/security.md).
   */
  readonly #session = crypto.randomUUID();

  /** A sender for the worker `identity` describes. */
  constructor(identity: HeartbeatIdentity) {
    this.#id = identity;
  }

  /** Publishes a heartbeat: `leaving` says it is the last, `active` the jobs held. */
  send(leaving: boolean, active: number): void {
    const o = this.#id;
    const value: Heartbeat = create(HeartbeatSchema, {
      workerId: o.workerId,
      pool: o.pool,
      region: o.region,
      type: o.type,
      capabilities: o.capabilities,
      activeJobs: leaving ? 0 : active,
      maxParallelJobs: o.concurrency,
      cpuLoad: this.#cpuLoad(),
      leaving,
      durable: o.durable,
      session: this.#session,
    });
    o.bus.publish(
      heartbeatSubject(o.pool),
      packet({ case: "heartbeat", value }, { senderId: o.workerId }),
    );
  }

  /** This process's CPU use since the last heartbeat, as a fraction of one core. */
  #cpuLoad(): number {
    const now = performance.now();
    const used = cpuUsage(this.#cpu);
    const elapsedUs = (now - this.#cpuAt) * 1000;
    this.#cpu = cpuUsage();
    this.#cpuAt = now;
    return elapsedUs > 0 ? (used.user + used.system) / elapsedUs : 0;
  }
}
