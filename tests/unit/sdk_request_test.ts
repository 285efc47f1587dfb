import { toBinary } from "@bufbuild/protobuf";
import { BusPacketSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import { packet } from "../../src/bus/codec.ts";
import {
  RequestEncoder,
  type RequestShape,
  TraceIds,
} from "../../src/sdk/request.ts";
import { assertEquals } from "../assert.ts";
import { prng } from "../random_packets.ts";

/** Where `a` and `b` first differ, -1 when they are equal. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return i;
  }
  return -1;
}

/** The bytes protobuf-es writes for the same job request. */
function reference(
  shape: RequestShape,
  jobId: string,
  traceId: string,
  payload: Uint8Array,
  nowMs: number,
): Uint8Array {
  const message = packet({
    case: "jobRequest",
    value: {
      $typeName: "cortex.v1.JobRequest",
      jobId,
      topic: shape.topic,
      priority: shape.priority,
      contextPtr: "",
      adapterId: "",
      envVars: {},
      payload,
      maxAttempts: shape.maxAttempts,
      attemptBase: 0,
    },
  }, { senderId: shape.senderId, traceId });
  message.createdAt = {
    $typeName: "google.protobuf.Timestamp",
    seconds: BigInt(Math.floor(nowMs / 1000)),
    nanos: (nowMs % 1000) * 1_000_000,
  };
  return toBinary(BusPacketSchema, message);
}

Deno.test("RequestEncoder writes exactly what toBinary writes", () => {
  const random = prng(7);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const text = (max: number) =>
    Array.from(
      { length: Math.floor(random() * max) },
      () => pick(["a", "Z", "7", "-", ".", "é", "名", "😀"]),
    ).join("");
  for (let i = 0; i < 600; i++) {
    const shape: RequestShape = {
      senderId: pick(["", "submit-1a2b3c4d", text(20)]),
      topic: pick(["", "job.echo", text(300)]),
      priority: pick([0, 1, 2, 3, 200, -1]),
      maxAttempts: pick([0, 1, 3, 100, 70_000, -5]),
    };
    const encoder = new RequestEncoder(shape);
    for (let j = 0; j < 3; j++) {
      const jobId = pick(["", `job-${i}-${j}`, text(200), "x".repeat(130)]);
      const traceId = pick(["", "0af7651916cd43dd8448eb211c80319c", text(40)]);
      const payload = new Uint8Array(
        pick([0, 1, 127, 128, 300, 20_000]),
      ).map(() => Math.floor(random() * 256));
      const nowMs = pick([0, 999, 1_000, Date.now(), 1_764_000_000_123]);
      assertEquals(
        firstDifference(
          encoder.encode(jobId, traceId, payload, nowMs),
          reference(shape, jobId, traceId, payload, nowMs),
        ),
        -1,
        `case ${i}.${j}: ${JSON.stringify({ shape, jobId, traceId, nowMs })}`,
      );
    }
  }
});

Deno.test("TraceIds count in hex after their prefix", () => {
  const traces = new TraceIds("0af7651916cd43dd8448");
  assertEquals(traces.next(), "0af7651916cd43dd8448000000000000");
  assertEquals(traces.next(), "0af7651916cd43dd8448000000000001");
  for (let i = 2; i < 255; i++) traces.next();
  assertEquals(traces.next(), "0af7651916cd43dd84480000000000ff");
  assertEquals(traces.next(), "0af7651916cd43dd8448000000000100");
});

Deno.test("a counted trace id is written as the same bytes as its string", () => {
  const shape: RequestShape = {
    senderId: "submit-1a2b3c4d",
    topic: "job.echo",
    priority: 2,
    maxAttempts: 0,
  };
  const encoder = new RequestEncoder(shape);
  const counted = new TraceIds("0af7651916cd43dd8448");
  const spelled = new TraceIds("0af7651916cd43dd8448");
  const payload = new Uint8Array([1, 2, 3]);
  // Non-ASCII job ids leave the fast path once the trace id is written.
  for (const jobId of ["job-1", "", "jöb-2", "x".repeat(200), "名"]) {
    for (let i = 0; i < 20; i++) {
      const nowMs = 1_764_000_000_123 + i;
      const traceId = spelled.next();
      assertEquals(
        firstDifference(
          encoder.encode(jobId, counted, payload, nowMs),
          reference(shape, jobId, traceId, payload, nowMs),
        ),
        -1,
        `${jobId} ${traceId}`,
      );
    }
  }
});
