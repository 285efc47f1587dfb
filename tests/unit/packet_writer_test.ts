import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  BusPacketSchema,
  JobResultSchema,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { writePacket } from "../../src/bus/wire/packet_writer.ts";
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
