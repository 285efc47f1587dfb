/**
 * Seeded random BusPackets for the codec's differential tests: every payload
 * kind, with the edge values that trip encoders (negative and 64-bit numbers,
 * NaN and infinities, empty and long strings, lone surrogates, a BOM).
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import {
  type BusPacket,
  BusPacketSchema,
  HeartbeatSchema,
  JobRequestSchema,
  JobResultSchema,
  SystemAlertSchema,
} from "../src/gen/cortex/v1/cortex_pb.ts";

/** A small seeded PRNG, so a failure names a reproducible case. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

const STRINGS = [
  "",
  "a",
  "job.echo",
  "héllo wörld",
  "日本語のテキスト",
  "emoji 🚀 and more",
  "\u0000nul",
  "x".repeat(200),
  "lone \ud800 surrogate",
  "\ufeffBOM first",
  "10",
];

export function packetFor(random: () => number): BusPacket {
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const maybe = <T>(value: T, empty: T) => random() < 0.5 ? value : empty;
  const int32 = () =>
    pick([0, 1, 3, 127, 128, 300, 2 ** 31 - 1, -1, -(2 ** 31), 16_384]);
  const bytes = () =>
    maybe(
      Uint8Array.from({ length: Math.floor(random() * 300) }, (_, i) => i),
      new Uint8Array(0),
    );
  const kind = pick(["jobRequest", "jobResult", "heartbeat", "alert", "none"]);
  const envVars: Record<string, string> = {};
  for (let i = Math.floor(random() * 4); i > 0; i--) {
    envVars[pick(STRINGS)] = pick(STRINGS);
  }
  const payload = kind === "jobRequest"
    ? {
      case: "jobRequest" as const,
      value: create(JobRequestSchema, {
        jobId: pick(STRINGS),
        topic: pick(STRINGS),
        priority: pick([0, 1, 2, 3, 7, 9, -4, -5]),
        contextPtr: pick(STRINGS),
        adapterId: pick(STRINGS),
        envVars,
        payload: bytes(),
        maxAttempts: int32(),
        attemptBase: int32(),
      }),
    }
    : kind === "jobResult"
    ? {
      case: "jobResult" as const,
      value: create(JobResultSchema, {
        jobId: pick(STRINGS),
        status: pick([0, 1, 2, 4, 5, 77, 99]),
        resultPtr: pick(STRINGS),
        workerId: pick(STRINGS),
        executionMs: pick([
          0n,
          1n,
          127n,
          128n,
          2n ** 40n,
          2n ** 53n + 1n,
          -1n,
          2n ** 63n - 1n,
          -(2n ** 63n),
        ]),
        output: bytes(),
        error: pick(STRINGS),
        attempts: int32(),
      }),
    }
    : kind === "heartbeat"
    ? {
      case: "heartbeat" as const,
      value: create(HeartbeatSchema, {
        workerId: pick(STRINGS),
        region: pick(STRINGS),
        type: pick(STRINGS),
        cpuLoad: pick([
          0,
          -0,
          0.25,
          0.5,
          1.25,
          NaN,
          Infinity,
          -Infinity,
          3.4e38,
          1e-40,
        ]),
        gpuUtilization: pick([0, 0.1, -2]),
        activeJobs: int32(),
        capabilities: Array.from(
          { length: Math.floor(random() * 3) },
          () => pick(STRINGS),
        ),
        pool: pick(STRINGS),
        maxParallelJobs: int32(),
        leaving: random() < 0.5,
        durable: random() < 0.5,
        session: pick(STRINGS),
      }),
    }
    : kind === "alert"
    ? {
      case: "alert" as const,
      value: create(SystemAlertSchema, {
        level: pick(STRINGS),
        message: pick(STRINGS),
        component: pick(STRINGS),
      }),
    }
    : { case: undefined };
  return create(BusPacketSchema, {
    traceId: pick(STRINGS),
    senderId: pick(STRINGS),
    createdAt: random() < 0.7
      ? create(TimestampSchema, {
        seconds: pick([0n, 1n, -5n, 1_795_740_000n, -62_135_596_800n]),
        nanos: pick([0, 1, 999_999_999, -1]),
      })
      : undefined,
    protocolVersion: pick([0, 1, 2 ** 32 - 1]),
    payload,
  });
}
