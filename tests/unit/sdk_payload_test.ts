/** The SDK's payload rules: bytes as is, strings as UTF-8, the rest as JSON. */
import {
  decodeJson,
  decodeText,
  encodePayload,
} from "../../src/sdk/payload.ts";
import { encodeOutput } from "../../src/sdk/worker.ts";
import { assertEquals, assertThrows } from "../assert.ts";

Deno.test("a Uint8Array is sent as is, the same array", () => {
  const bytes = new Uint8Array([0, 255, 1]);
  assertEquals(encodePayload(bytes), bytes);
  assertEquals(encodePayload(bytes) === bytes, true);
});

Deno.test("a string is UTF-8, not JSON", () => {
  assertEquals(decodeText(encodePayload("héllo ✓")), "héllo ✓");
  assertEquals(encodePayload("x"), new Uint8Array([0x78]));
});

Deno.test("other values are JSON both ways", () => {
  for (const value of [{ a: [1, "b", null] }, 42, true, null, [1, 2]]) {
    assertEquals(decodeJson(encodePayload(value)), value);
  }
});

Deno.test("a value with no JSON form is a TypeError that says so", () => {
  assertThrows(() => encodePayload(undefined), /TypeError: .*no JSON form/);
  assertThrows(() => encodePayload(() => 1), /TypeError: .*no JSON form/);
  assertThrows(() => encodePayload(1n), /TypeError: .*cannot be sent as JSON/);
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  assertThrows(
    () => encodePayload(cycle),
    /TypeError: .*cannot be sent as JSON/,
  );
});

Deno.test("bytes that are not JSON are a SyntaxError that says so", () => {
  assertThrows(
    () => decodeJson(encodePayload("not json")),
    /SyntaxError: not JSON/,
  );
});

Deno.test("a handler that returns nothing has no output", () => {
  assertEquals(encodeOutput(undefined), new Uint8Array(0));
  assertEquals(decodeJson(encodeOutput({ ok: 1 })), { ok: 1 });
});
