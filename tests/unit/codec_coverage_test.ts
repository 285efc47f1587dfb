/**
 * Guards the hand-written codec against the contract growing: every field of
 * every message, set to a non-default value through the schema itself, must
 * encode to exactly protobuf-es's bytes and decode to exactly its message.
 * A field added to proto/ that packet_writer.ts or packet_reader.ts does not
 * know makes this test fail.
 */
import {
  create,
  type DescField,
  type DescMessage,
  fromBinary,
  ScalarType,
  toBinary,
} from "@bufbuild/protobuf";
import {
  type BusPacket,
  BusPacketSchema,
  HeartbeatSchema,
  JobRequestSchema,
  JobResultSchema,
  SystemAlertSchema,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { writePacket } from "../../src/bus/wire/packet_writer.ts";
import { readPacket } from "../../src/bus/wire/packet_reader.ts";
import { assertEquals, assertOk } from "../assert.ts";

function scalar(type: ScalarType): unknown {
  switch (type) {
    case ScalarType.STRING:
      return "value";
    case ScalarType.BYTES:
      return new Uint8Array([1, 2, 3]);
    case ScalarType.BOOL:
      return true;
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return 1.5;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 42n;
    default:
      return 42;
  }
}

function value(field: DescField): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar);
    case "enum":
      return field.enum.values.at(-1)!.number;
    case "message":
      return everyField(field.message);
    case "list":
      return field.listKind === "scalar"
        ? [scalar(field.scalar), scalar(field.scalar)]
        : field.listKind === "enum"
        ? [1]
        : [everyField(field.message)];
    case "map":
      return {
        key: field.mapKind === "scalar" ? scalar(field.scalar) : undefined,
      };
  }
}

/** A message of `schema` with every field (but oneofs) set. */
function everyField(schema: DescMessage): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const field of schema.fields) {
    if (field.oneof) continue;
    init[field.localName] = value(field);
  }
  return create(schema, init) as unknown as Record<string, unknown>;
}

Deno.test("the hand-written codec knows every field of every message in the contract", () => {
  const cases = [
    ["jobRequest", JobRequestSchema],
    ["jobResult", JobResultSchema],
    ["heartbeat", HeartbeatSchema],
    ["alert", SystemAlertSchema],
  ] as const;
  assertEquals(
    BusPacketSchema.oneofs[0].fields.map((f) => f.localName).sort(),
    cases.map(([name]) => name).sort(),
    "a payload kind was added: teach packet_writer.ts and packet_reader.ts",
  );
  for (const [name, schema] of cases) {
    const message = create(BusPacketSchema, {
      ...everyField(BusPacketSchema),
      payload: { case: name, value: everyField(schema) },
    } as unknown as BusPacket);
    const reference = toBinary(BusPacketSchema, message);
    const written = writePacket(message);
    assertOk(written, `${name}: writePacket gave up on a plain message`);
    assertEquals(
      [...written],
      [...reference],
      `${name}: bytes differ from toBinary`,
    );
    const read = readPacket(reference);
    assertOk(read, `${name}: readPacket gave up on the canonical encoding`);
    assertEquals(
      read,
      fromBinary(BusPacketSchema, reference),
      `${name}: differs from fromBinary`,
    );
  }
});
