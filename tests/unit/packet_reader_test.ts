import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import {
  type BusPacket,
  BusPacketSchema,
  HeartbeatSchema,
  JobRequestSchema,
  JobResultSchema,
  SystemAlertSchema,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { readPacket } from "../../src/bus/packet_reader.ts";
import { assertOk } from "../assert.ts";

function prng(seed: number): () => number {
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
  "emoji 🚀",
  "\ufeffBOM first",
  "x".repeat(100),
  "10",
];

function packetFor(random: () => number): BusPacket {
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const bytes = () =>
    Uint8Array.from({ length: Math.floor(random() * 3) * 70 }, (_, i) => i);
  const int32 = () => pick([0, 1, 127, 128, 2 ** 31 - 1, -1, -(2 ** 31)]);
  const envVars: Record<string, string> = {};
  for (let i = Math.floor(random() * 3); i > 0; i--) {
    envVars[pick(STRINGS)] = pick(STRINGS);
  }
  const payloads = [
    {
      case: "jobRequest" as const,
      value: create(JobRequestSchema, {
        jobId: pick(STRINGS),
        topic: pick(STRINGS),
        priority: pick([0, 2, 3, 9, -4]),
        contextPtr: pick(STRINGS),
        adapterId: pick(STRINGS),
        envVars,
        payload: bytes(),
      }),
    },
    {
      case: "jobResult" as const,
      value: create(JobResultSchema, {
        jobId: pick(STRINGS),
        status: pick([0, 1, 4, 77]),
        resultPtr: pick(STRINGS),
        workerId: pick(STRINGS),
        executionMs: pick([0n, 5n, 2n ** 53n + 1n, -1n, -(2n ** 63n)]),
        output: bytes(),
        error: pick(STRINGS),
      }),
    },
    {
      case: "heartbeat" as const,
      value: create(HeartbeatSchema, {
        workerId: pick(STRINGS),
        region: pick(STRINGS),
        type: pick(STRINGS),
        cpuLoad: pick([0, -0, 0.25, NaN, -Infinity]),
        gpuUtilization: pick([0, 0.5]),
        activeJobs: int32(),
        capabilities: [pick(STRINGS), pick(STRINGS)].slice(
          0,
          Math.floor(random() * 3),
        ),
        pool: pick(STRINGS),
        maxParallelJobs: int32(),
        leaving: random() < 0.5,
      }),
    },
    {
      case: "alert" as const,
      value: create(SystemAlertSchema, {
        level: pick(STRINGS),
        message: pick(STRINGS),
        component: pick(STRINGS),
      }),
    },
    { case: undefined },
  ];
  return create(BusPacketSchema, {
    traceId: pick(STRINGS),
    senderId: pick(STRINGS),
    createdAt: random() < 0.7
      ? create(TimestampSchema, {
        seconds: pick([0n, 1_795_740_000n, -5n]),
        nanos: pick([0, 999_999_999, -1]),
      })
      : undefined,
    protocolVersion: pick([0, 1, 2 ** 32 - 1]),
    payload: pick(payloads),
  });
}

const show = (value: unknown) =>
  Deno.inspect(value, { depth: 10, iterableLimit: 1_000, sorted: false });

/** fromBinary's answer, or "throws". */
function reference(bytes: Uint8Array): string {
  try {
    return show(fromBinary(BusPacketSchema, bytes));
  } catch {
    return "throws";
  }
}

Deno.test("readPacket returns exactly what fromBinary returns", () => {
  const random = prng(7);
  for (let i = 0; i < 5_000; i++) {
    const bytes = toBinary(BusPacketSchema, packetFor(random));
    const got = readPacket(bytes);
    assertOk(got, `case ${i}: fell back on canonical bytes`);
    const want = reference(bytes);
    assertOk(show(got) === want, `case ${i}:\n${show(got)}\n!=\n${want}`);
  }
});

Deno.test("readPacket on damaged bytes: fromBinary's answer or a fallback", () => {
  const random = prng(11);
  let fellBack = 0;
  for (let i = 0; i < 5_000; i++) {
    const bytes = toBinary(BusPacketSchema, packetFor(random)).slice();
    if (bytes.length === 0) continue;
    const at = Math.floor(random() * bytes.length);
    if (random() < 0.5) bytes[at] = Math.floor(random() * 256);
    const damaged = random() < 0.3 ? bytes.subarray(0, at) : bytes;
    const got = readPacket(damaged);
    if (got === undefined) {
      fellBack++;
      continue;
    }
    const want = reference(damaged);
    assertOk(show(got) === want, `case ${i}:\n${show(got)}\n!=\n${want}`);
  }
  assertOk(fellBack > 0);
});

Deno.test("readPacket leaves unknown fields to fromBinary", () => {
  const bytes = new Uint8Array([0x0a, 0x01, 0x74, 0x98, 0x06, 0x01]);
  assertOk(readPacket(bytes) === undefined);
  assertOk(fromBinary(BusPacketSchema, bytes).$unknown?.length === 1);
});
