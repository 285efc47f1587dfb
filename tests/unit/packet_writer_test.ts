import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  BusPacketSchema,
  JobResultSchema,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import {
  writePacket,
  writeSharedPacket,
} from "../../src/bus/wire/packet_writer.ts";
import { assertOk } from "../assert.ts";
import { packetFor, prng } from "../random_packets.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("writePacket writes exactly what toBinary writes", () => {
  const random = prng(42);
  for (let i = 0; i < 5_000; i++) {
    const message = packetFor(random);
    const want = toBinary(BusPacketSchema, message);
    const got = writePacket(message);
    assertOk(got, `case ${i}: no bytes`);
    assertOk(
      hex(got) === hex(want),
      `case ${i}: ${hex(got)} != ${hex(want)}`,
    );
  }
});

Deno.test("writePacket leaves messages with unknown fields to toBinary", () => {
  const original = toBinary(
    BusPacketSchema,
    create(BusPacketSchema, { traceId: "t" }),
  );
  // Field 99 (varint 1) is unknown to BusPacket: it is kept in $unknown.
  const withUnknown = new Uint8Array([...original, 0x98, 0x06, 0x01]);
  const message = fromBinary(BusPacketSchema, withUnknown);
  assertOk(writePacket(message) === undefined);
});

Deno.test("writePacket's buffer grows for large payloads and is not shared", () => {
  const big = create(BusPacketSchema, {
    payload: {
      case: "jobResult",
      value: create(JobResultSchema, { output: new Uint8Array(100_000) }),
    },
  });
  const first = writePacket(big)!;
  const second = writePacket(create(BusPacketSchema, { traceId: "x" }))!;
  assertOk(hex(first) === hex(toBinary(BusPacketSchema, big)));
  assertOk(first.length > 100_000 && second.length === 3);
});

Deno.test("writeSharedPacket writes what writePacket writes, each packet's bytes its own, across chunks and for large packets", () => {
  const random = prng(7);
  const kept: [Uint8Array, string][] = [];
  // Enough packets to fill several 64 KiB chunks.
  for (let i = 0; i < 3_000; i++) {
    const message = packetFor(random);
    const shared = writeSharedPacket(message);
    assertOk(shared, `case ${i}: no bytes`);
    assertOk(hex(shared) === hex(writePacket(message)!), `case ${i}`);
    kept.push([shared, hex(shared)]);
  }
  const big = create(BusPacketSchema, {
    payload: {
      case: "jobResult",
      value: create(JobResultSchema, { output: new Uint8Array(100_000) }),
    },
  });
  const large = writeSharedPacket(big)!;
  assertOk(hex(large) === hex(toBinary(BusPacketSchema, big)));
  assertOk(large.byteOffset === 0 && large.buffer.byteLength === large.length);
  // Later packets never wrote over earlier ones' bytes.
  for (const [i, [bytes, want]] of kept.entries()) {
    assertOk(hex(bytes) === want, `case ${i} changed`);
  }
  assertOk(new Set(kept.map(([b]) => b.buffer)).size > 1);
});
