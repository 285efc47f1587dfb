// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * The scheduler's control notices to workers: cancel a job
 * ({@linkcode CANCEL}) and drain or resume a worker ({@linkcode DRAIN}),
 * built and read in one place.
 *
 * @module
 */
import { create } from "npm:@bufbuild/protobuf@^2.17.0";
import {
  JobResultSchema,
  JobStatus,
  SystemAlertSchema,
} from "../gen/cortex/v1/cortex_pb.ts";
import type { BusPacket } from "./messages.ts";
import { packet } from "./codec.ts";

/**
 * The notice that `jobId` is cancelled, for {@linkcode CANCEL}.
 *
 * @example
 * ```ts
 * bus.publish(CANCEL, cancelNotice("job-1", senderId));
 * ```
 */
export function cancelNotice(jobId: string, senderId: string): BusPacket {
  const value = create(JobResultSchema, {
    jobId,
    status: JobStatus.CANCELLED,
  });
  return packet({ case: "jobResult", value }, { senderId });
}

/** The job id a {@linkcode cancelNotice} names, or `undefined` for anything else. */
export function cancelledJob(message: BusPacket): string | undefined {
  const p = message.payload;
  if (p.case !== "jobResult" || p.value.status !== JobStatus.CANCELLED) {
    return undefined;
  }
  return p.value.jobId || undefined;
}

/** What a drain notice asks of its worker. */
export type DrainAsk = "drain" | "resume";

/**
 * The notice asking `workerId` to drain or resume, for {@linkcode DRAIN}.
 *
 * @example
 * ```ts
 * bus.publish(DRAIN, drainNotice("echo-1", "drain", senderId));
 * ```
 */
export function drainNotice(
  workerId: string,
  ask: DrainAsk,
  senderId: string,
): BusPacket {
  const value = create(SystemAlertSchema, {
    level: ask,
    message: workerId,
    component: "scheduler",
  });
  return packet({ case: "alert", value }, { senderId });
}

/** The worker and the ask of a {@linkcode drainNotice}, or `undefined`. */
export function drainAsked(
  message: BusPacket,
): { workerId: string; ask: DrainAsk } | undefined {
  const p = message.payload;
  if (p.case !== "alert" || p.value.message === "") return undefined;
  const ask = p.value.level;
  if (ask !== "drain" && ask !== "resume") return undefined;
  return { workerId: p.value.message, ask };
}

/**
 * A bounded set of recently cancelled job ids: a worker remembers the
 * newest {@linkcode RECENT_CANCELS} so a job cancelled before it reached
 * the worker (held in its queue, waiting for a retry, or still in the work
 * stream) is never started. 10,000 ids of ~40 bytes: well under 1 MiB.
 */
export const RECENT_CANCELS = 10_000;

/**
 * Remembers cancelled job ids, the oldest forgotten past `capacity`.
 *
 * @example
 * ```ts
 * const cancels = new CancelledJobs();
 * cancels.add("job-1");
 * cancels.has("job-1"); // true
 * ```
 */
export class CancelledJobs {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  /** An empty set holding at most `capacity` ids. */
  constructor(capacity = RECENT_CANCELS) {
    this.#capacity = capacity;
  }

  /** Remembers `jobId`, forgetting the oldest when full. */
  add(jobId: string): void {
    this.#ids.delete(jobId);
    this.#ids.add(jobId);
    if (this.#ids.size > this.#capacity) {
      this.#ids.delete(this.#ids.values().next().value!);
    }
  }

  /** Whether `jobId` was cancelled (recently enough to be remembered). */
  has(jobId: string): boolean {
    return this.#ids.size > 0 && this.#ids.has(jobId);
  }
}
