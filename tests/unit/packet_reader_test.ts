import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  BusPacketSchema,
  HeartbeatSchema,
  JobRequestSchema,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { decodePacket } from "../../src/bus/codec.ts";
import type { JobRequest } from "../../src/bus/messages.ts";
import {
  heartbeatWorkerId,
  MAX_WIRE_CAPABILITIES,
  MAX_WIRE_JOB_ID_BYTES,
  readJobResult,
  readPacket,
  resultJobId,
  WireLimitError,
  wireSize,
} from "../../src/bus/wire/packet_reader.ts";
import { clipped, validateJob } from "../../src/scheduler/validation.ts";
import {
  assertEquals,
  assertMatch,
  assertOk,
  assertThrows,
} from "../assert.ts";
import { packetFor, prng } from "../random_packets.ts";

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

Deno.test("readPacket: strings of every short length, one after another, ASCII or not", () => {
  // The reader builds short strings in one shared array per length: what
  // one string leaves there must never show in the next.
  const texts: string[] = [];
  for (let len = 0; len <= 70; len++) {
    const ascii = Array.from({ length: len }, (_, i) => "abcxyz0189-._"[i % 13])
      .join("");
    texts.push(ascii, ascii.slice(0, Math.max(0, len - 1)) + "é");
    if (len > 2) texts.push(`é${ascii.slice(2)}`, `${ascii.slice(1)}\u{1F600}`);
  }
  for (let i = 0; i < texts.length; i++) {
    const job = create(JobRequestSchema, {
      jobId: texts[i],
      topic: texts[(i + 7) % texts.length],
      contextPtr: texts[texts.length - 1 - i],
      envVars: { [texts[(i + 3) % texts.length]]: texts[i] },
    });
    const bytes = toBinary(
      BusPacketSchema,
      create(BusPacketSchema, {
        traceId: texts[(i + 1) % texts.length],
        senderId: texts[(i * 5) % texts.length],
        payload: { case: "jobRequest", value: job },
      }),
    );
    const got = readPacket(bytes);
    assertOk(got, `case ${i}: fell back on canonical bytes`);
    assertEquals(show(got), reference(bytes), `case ${i}`);
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

Deno.test("readPacket clips a job id or topic longer than any scheduler accepts, and says its size", () => {
  const id = "é" + "x".repeat(100_000);
  const topic = "job." + "t".repeat(300);
  const bytes = toBinary(
    BusPacketSchema,
    create(BusPacketSchema, {
      payload: {
        case: "jobRequest",
        value: create(JobRequestSchema, { jobId: id, topic }),
      },
    }),
  );
  const job = readPacket(bytes)?.payload.value as JobRequest;
  // As `clipped` cuts the whole string: first 64 bytes, whole characters.
  assertEquals(job.jobId, clipped(id, 256));
  assertEquals(wireSize(job, "jobId"), 100_002);
  assertEquals(job.topic, clipped(topic, 256));
  assertEquals(wireSize(job, "topic"), 304);
  assertEquals(
    validateJob(job, { maxPayloadBytes: 1024 }),
    "job_id is 100002 bytes; the limit is 256 (CORTEX_MAX_JOB_ID_BYTES)",
  );
  // An id any scheduler could accept is decoded whole.
  const whole = "y".repeat(MAX_WIRE_JOB_ID_BYTES);
  const fits = readPacket(toBinary(
    BusPacketSchema,
    create(BusPacketSchema, {
      payload: {
        case: "jobRequest",
        value: create(JobRequestSchema, { jobId: whole, topic: "job.a" }),
      },
    }),
  ))?.payload.value as JobRequest;
  assertEquals(fits.jobId, whole);
  assertEquals(wireSize(fits, "jobId"), undefined);
});

/** `field` (length-delimited) holding `body`, as protobuf writes it. */
function lengthDelimited(field: number, body: Uint8Array): Uint8Array {
  const head: number[] = [];
  for (let v = (field << 3) | 2;; v >>>= 7) {
    if (v < 0x80) {
      head.push(v);
      break;
    }
    head.push((v & 0x7f) | 0x80);
  }
  for (let v = body.length;; v >>>= 7) {
    if (v < 0x80) {
      head.push(v);
      break;
    }
    head.push((v & 0x7f) | 0x80);
  }
  return new Uint8Array([...head, ...body]);
}

/** `unit` repeated `times` times. */
function repeated(unit: number[], times: number): Uint8Array {
  const out = new Uint8Array(unit.length * times);
  for (let i = 0; i < times; i++) out.set(unit, i * unit.length);
  return out;
}

const heartbeatBody = toBinary(
  HeartbeatSchema,
  create(HeartbeatSchema, { workerId: "w", pool: "echo" }),
);

Deno.test("bounds: a packet left to fromBinary is refused past 1024 fields, never decoded", () => {
  // 1 MB of three-byte unknown fields (field 99, varint 0): fromBinary took
  // ~100 ms and ~50 MB of heap for each such packet.
  const flood = new Uint8Array([
    ...lengthDelimited(12, heartbeatBody),
    ...repeated([0x98, 0x06, 0x00], 333_000),
  ]);
  assertThrows(() => readPacket(flood), /more than 1024 fields/);
  const decoded = decodePacket(flood);
  assertOk(!decoded.ok);
  assertMatch(decoded.reason, /^not a BusPacket: a packet of more than 1024/);
  // Inside the payload, and inside a group, they count the same.
  const inner = lengthDelimited(
    12,
    new Uint8Array([...heartbeatBody, ...repeated([0xf0, 0x01, 0x00], 2_000)]),
  );
  assertThrows(() => readPacket(inner), /more than 1024 fields/);
  const group = new Uint8Array([
    ...lengthDelimited(12, heartbeatBody),
    0xa3,
    0x06, // field 100, start group
    ...repeated([0x08, 0x00], 2_000),
    0xa4,
    0x06, // field 100, end group
  ]);
  assertThrows(() => readPacket(group), /more than 1024 fields/);
  // A few unknown fields (a newer peer) are still fromBinary's to decode.
  const newer = new Uint8Array([
    ...lengthDelimited(12, heartbeatBody),
    ...repeated([0x98, 0x06, 0x00], 1_000),
  ]);
  assertEquals(readPacket(newer), undefined);
  assertOk(decodePacket(newer).ok);
});

Deno.test("bounds: a heartbeat listing more than 1024 capabilities is not read", () => {
  const caps = (n: number) =>
    lengthDelimited(
      12,
      new Uint8Array([...heartbeatBody, ...repeated([0x3a, 0x00], n)]),
    );
  const most = readPacket(caps(MAX_WIRE_CAPABILITIES));
  assertEquals(show(most), reference(caps(MAX_WIRE_CAPABILITIES)));
  let refused: unknown;
  try {
    readPacket(caps(MAX_WIRE_CAPABILITIES + 1));
  } catch (error) {
    refused = error;
  }
  assertOk(refused instanceof WireLimitError);
  assertMatch(refused.message, /more than 1024 capabilities/);
  assertOk(!decodePacket(caps(500_000)).ok);
});

Deno.test("heartbeatWorkerId reads the id a decoded heartbeat has, or leaves the packet to be decoded", () => {
  const random = prng(23);
  let read = 0;
  for (let i = 0; i < 5_000; i++) {
    const bytes = toBinary(BusPacketSchema, packetFor(random));
    const peeked = heartbeatWorkerId(bytes, 256);
    const packet = readPacket(bytes)!;
    if (packet.payload.case !== "heartbeat") {
      assertEquals(peeked, undefined, `case ${i}`);
      continue;
    }
    const id = packet.payload.value.workerId;
    const fits = id !== "" && new TextEncoder().encode(id).length <= 256;
    assertEquals(peeked, fits ? id : undefined, `case ${i}`);
    if (fits) read++;
  }
  assertOk(read > 0);
  // Damaged bytes: the id a decoded heartbeat would have, or undefined. (A
  // packet whose other fields do not decode may still show an id: refused
  // by it, it is refused all the same.)
  let compared = 0;
  for (let i = 0; i < 5_000; i++) {
    const bytes = toBinary(BusPacketSchema, packetFor(random)).slice();
    if (bytes.length === 0) continue;
    bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    const peeked = heartbeatWorkerId(bytes, 256);
    const decoded = decodePacket(bytes);
    if (peeked === undefined || !decoded.ok) continue;
    assertEquals(decoded.packet.payload.case, "heartbeat", `case ${i}`);
    const value = decoded.packet.payload.value as { workerId: string };
    assertEquals(value.workerId, peeked, `case ${i}`);
    compared++;
  }
  assertOk(compared > 0);
});

Deno.test("heartbeatWorkerId leaves a heartbeat whose worker_id comes with another wire type to the decoder", () => {
  // BusPacket field 12 (heartbeat), holding worker_id (field 1) first as a
  // varint, then as the string "abc": which one the decoder takes is its
  // business, so the reader names neither.
  const body = [0x08, 0x05, 0x0a, 0x03, 0x61, 0x62, 0x63];
  const bytes = new Uint8Array([(12 << 3) | 2, body.length, ...body]);
  assertEquals(heartbeatWorkerId(bytes, 256), undefined);
  // The same heartbeat without the varint is read.
  const plain = new Uint8Array([(12 << 3) | 2, 5, ...body.slice(2)]);
  assertEquals(heartbeatWorkerId(plain, 256), "abc");
});

Deno.test("resultJobId reads the job id a decoded result has, or leaves the packet to be decoded", () => {
  const random = prng(29);
  const ascii = (s: string) => [...s].every((c) => c.charCodeAt(0) < 0x80);
  let read = 0;
  for (let i = 0; i < 5_000; i++) {
    const bytes = toBinary(BusPacketSchema, packetFor(random));
    const peeked = resultJobId(bytes, 256);
    const packet = readPacket(bytes)!;
    if (packet.payload.case !== "jobResult") {
      assertEquals(peeked, undefined, `case ${i}`);
      continue;
    }
    const id = packet.payload.value.jobId;
    const fits = id !== "" && ascii(id) && id.length <= 256;
    assertEquals(peeked, fits ? id : undefined, `case ${i}`);
    if (fits) read++;
  }
  assertOk(read > 0);
  // Damaged bytes: whenever a result decodes, its id is the one read, if
  // any. (Bytes that do not decode may still show an id: a client that
  // awaits it decodes them, and drops them as before.)
  let compared = 0;
  for (let i = 0; i < 20_000; i++) {
    const bytes = toBinary(BusPacketSchema, packetFor(random)).slice();
    if (bytes.length === 0) continue;
    bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    const peeked = resultJobId(bytes, 256);
    const decoded = decodePacket(bytes);
    if (!decoded.ok || decoded.packet.payload.case !== "jobResult") continue;
    if (peeked === undefined) continue;
    assertEquals(decoded.packet.payload.value.jobId, peeked, `case ${i}`);
    compared++;
  }
  assertOk(compared > 0);
  // Ids the reader leaves to the decoder: too long, not ASCII.
  const result = (jobId: string) =>
    toBinary(
      BusPacketSchema,
      create(BusPacketSchema, {
        payload: { case: "jobResult", value: { jobId, workerId: "w" } },
      }),
    );
  assertEquals(resultJobId(result("job-1"), 256), "job-1");
  assertEquals(resultJobId(result("x".repeat(257)), 256), undefined);
  assertEquals(resultJobId(result("jöb"), 256), undefined);
  assertEquals(resultJobId(result(""), 256), undefined);
});

Deno.test("readJobResult returns the result readPacket reads, or leaves the packet to be decoded", () => {
  const random = prng(31);
  let read = 0;
  let damaged = 0;
  for (let i = 0; i < 30_000; i++) {
    let bytes = toBinary(BusPacketSchema, packetFor(random));
    if (i >= 5_000) {
      if (bytes.length === 0) continue;
      bytes = bytes.slice();
      bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    }
    const result = readJobResult(bytes);
    let packet;
    try {
      packet = readPacket(bytes);
    } catch {
      packet = undefined; // over a bound: refused, so not read here either
    }
    if (packet?.payload.case !== "jobResult") {
      assertEquals(result, undefined, `case ${i}`);
      continue;
    }
    if (i < 5_000) assertOk(result !== undefined, `case ${i}`);
    if (result === undefined) continue;
    assertEquals(show(result), show(packet.payload.value), `case ${i}`);
    const decoded = decodePacket(bytes);
    assertOk(decoded.ok, `case ${i}`);
    if (i < 5_000) read++;
    else damaged++;
  }
  assertOk(read > 0 && damaged > 0);
});

Deno.test("readPacket reads a sender and a topic that repeat, change, or are not ASCII exactly as fromBinary does", () => {
  const cases: [string, string][] = [
    ["client-1", "job.echo"],
    ["client-1", "job.echo"],
    ["client-2", "job.echo"],
    ["client-2", "job.ecgo"],
    ["", ""],
    ["é", "job.é"],
    ["ab", "job.éa"],
    ["é", "job.é"],
    ["client-2", "job.echo"],
  ];
  for (const [senderId, topic] of cases) {
    const bytes = toBinary(
      BusPacketSchema,
      create(BusPacketSchema, {
        senderId,
        traceId: "t",
        payload: {
          case: "jobRequest",
          value: create(JobRequestSchema, { jobId: "j", topic }),
        },
      }),
    );
    const read = readPacket(bytes);
    assertOk(read, `${senderId} ${topic}`);
    assertEquals(read.senderId, senderId);
    assertEquals((read.payload.value as JobRequest).topic, topic);
  }
  // Bytes that are not UTF-8, of the length of the last sender read, are
  // not taken for it: left to fromBinary, which refuses them.
  readPacket(
    toBinary(BusPacketSchema, create(BusPacketSchema, { senderId: "ab" })),
  );
  const bad = toBinary(
    BusPacketSchema,
    create(BusPacketSchema, { senderId: "ab" }),
  );
  bad[bad.indexOf(0x61)] = 0xe9;
  assertEquals(readPacket(bad), undefined);
});
