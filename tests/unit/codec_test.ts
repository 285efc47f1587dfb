/**
 * The codec against bytes written by hand from DESIGN.md's field numbers, so a
 * peer in another language built from the same list interoperates.
 */
import { create } from "@bufbuild/protobuf";
import {
  BusPacketSchema,
  HeartbeatSchema,
  JobPriority,
  JobRequestSchema,
  JobResultSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import {
  decodePacket,
  encodePacket,
  packet,
  PROTOCOL_VERSION,
} from "../../src/bus/codec.ts";
import { assertEquals, assertMatch, assertOk } from "../assert.ts";

const utf8 = (s: string) => [...new TextEncoder().encode(s)];
/** A base-128 varint. */
const v = (n: number): number[] =>
  n < 128 ? [n] : [(n & 0x7f) | 0x80, ...v(n >>> 7)];
const tag = (field: number, wireType: number) => v((field << 3) | wireType);
/** A length-delimited field: tag, length, bytes. */
const len = (
  field: number,
  bytes: number[],
) => [...tag(field, 2), ...v(bytes.length), ...bytes];
const str = (field: number, s: string) => len(field, utf8(s));
const varint = (
  field: number,
  value: number,
) => [...tag(field, 0), ...v(value)];
const float32 = (field: number, value: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return [...tag(field, 5), ...b];
};

Deno.test("a JobRequest packet written by hand decodes field by field", () => {
  const bytes = new Uint8Array([
    ...str(1, "trace-1"),
    ...str(2, "client-go"),
    ...len(3, [...varint(1, 100), ...varint(2, 5)]), // created_at {seconds, nanos}
    ...varint(4, 1),
    ...len(10, [
      ...str(1, "job-1"),
      ...str(2, "job.echo"),
      ...varint(3, 3), // CRITICAL
      ...str(4, "s3://ctx"),
      ...str(5, "adapter"),
      ...len(6, [...str(1, "K"), ...str(2, "V")]), // env_vars map entry
      ...len(20, utf8("hi")), // payload (CortexOS extension)
    ]),
  ]);
  const decoded = decodePacket(bytes);
  assertOk(decoded.ok);
  const p = decoded.packet;
  assertEquals([p.traceId, p.senderId, p.protocolVersion], [
    "trace-1",
    "client-go",
    1,
  ]);
  assertEquals([p.createdAt?.seconds, p.createdAt?.nanos], [100n, 5]);
  assertOk(p.payload.case === "jobRequest");
  const job = p.payload.value;
  assertEquals(
    [
      job.jobId,
      job.topic,
      job.priority,
      job.contextPtr,
      job.adapterId,
      job.envVars,
    ],
    ["job-1", "job.echo", JobPriority.CRITICAL, "s3://ctx", "adapter", {
      K: "V",
    }],
  );
  assertEquals(new TextDecoder().decode(job.payload), "hi");
});

Deno.test("JobResult and Heartbeat encode to the MVP's field numbers", () => {
  const result = encodePacket(create(BusPacketSchema, {
    traceId: "t",
    payload: {
      case: "jobResult",
      value: create(JobResultSchema, {
        jobId: "j",
        status: JobStatus.DENIED,
        resultPtr: "r",
        workerId: "w",
        executionMs: 7n,
      }),
    },
  }));
  assertEquals([...result], [
    ...str(1, "t"),
    ...len(11, [
      ...str(1, "j"),
      ...varint(2, 4),
      ...str(3, "r"),
      ...str(4, "w"),
      ...varint(5, 7),
    ]),
  ]);

  const heartbeat = encodePacket(create(BusPacketSchema, {
    payload: {
      case: "heartbeat",
      value: create(HeartbeatSchema, {
        workerId: "w",
        region: "eu",
        type: "echo",
        cpuLoad: 0.5,
        gpuUtilization: 0.25,
        activeJobs: 2,
        capabilities: ["a", "b"],
        pool: "echo",
        maxParallelJobs: 4,
      }),
    },
  }));
  assertEquals([...heartbeat], [
    ...len(12, [
      ...str(1, "w"),
      ...str(2, "eu"),
      ...str(3, "echo"),
      ...float32(4, 0.5),
      ...float32(5, 0.25),
      ...varint(6, 2),
      ...str(7, "a"),
      ...str(7, "b"),
      ...str(11, "echo"),
      ...varint(12, 4),
    ]),
  ]);
});

Deno.test("packet() stamps time, protocol version and a trace id; round trip is exact", () => {
  const before = Date.now();
  const original = packet({
    case: "jobRequest",
    value: create(JobRequestSchema, {
      jobId: "j",
      topic: "job.echo",
      payload: new Uint8Array([0, 255]),
    }),
  }, { senderId: "me" });
  assertEquals(original.protocolVersion, PROTOCOL_VERSION);
  assertMatch(original.traceId, /^[0-9a-f]{32}$/);
  assertOk(Number(original.createdAt!.seconds) * 1000 >= before - 1000);
  const decoded = decodePacket(encodePacket(original));
  assertOk(decoded.ok);
  assertEquals(decoded.packet, original);
});

Deno.test("malformed bytes come back as a reason, never an exception", () => {
  const valid = encodePacket(packet({
    case: "jobRequest",
    value: create(JobRequestSchema, { jobId: "job-123", topic: "job.echo" }),
  }, { senderId: "me" }));
  const cases: Record<string, Uint8Array> = {
    empty: new Uint8Array(),
    truncated: valid.subarray(0, valid.length - 3),
    "invalid wire type": new Uint8Array([0x0f, 0x01]),
    "length past the end": new Uint8Array([0x0a, 0x7f, 0x41]),
    "text, not protobuf": new TextEncoder().encode("hello, scheduler"),
  };
  for (let seed = 1; seed <= 200; seed++) {
    let x = seed;
    cases[`random ${seed}`] = Uint8Array.from(
      { length: 1 + (seed % 64) },
      () => {
        x = (x * 1103515245 + 12345) & 0x7fffffff; // deterministic, so a failure reproduces
        return x & 0xff;
      },
    );
  }
  let failures = 0;
  for (const [name, bytes] of Object.entries(cases)) {
    const decoded = decodePacket(bytes); // must not throw
    if (!decoded.ok) {
      failures++;
      assertOk(decoded.reason.length > 0, name);
    }
  }
  const named = [
    "empty",
    "truncated",
    "invalid wire type",
    "length past the end",
    "text, not protobuf",
  ];
  for (const name of named) {
    assertOk(!decodePacket(cases[name]).ok, `${name} should fail`);
  }
  assertOk(failures >= named.length);
  assertMatch(
    (decodePacket(new Uint8Array()) as { reason: string }).reason,
    /no payload/,
  );
});
