/** Slabs: each array taken is its own bytes; large ones get a buffer of their own. */
import { Slabs } from "../../src/bus/wire/slabs.ts";
import { assertEquals, assertOk } from "../assert.ts";

Deno.test("Slabs: small arrays share a slab without overlapping, across slabs; large ones are apart", () => {
  const slabs = new Slabs();
  const taken: Uint8Array[] = [];
  // More than one 64 KiB slab's worth, each filled with its own mark.
  for (let i = 0; i < 1_000; i++) {
    const bytes = slabs.take(90);
    assertEquals(bytes.length, 90);
    assertOk(bytes.every((b) => b === 0), "handed out zeroed");
    bytes.fill(i % 251);
    taken.push(bytes);
  }
  taken.forEach((bytes, i) =>
    assertOk(bytes.every((b) => b === i % 251), `array ${i} written over`)
  );
  assertEquals(taken[0].buffer, taken[1].buffer);
  assertOk(taken[0].buffer !== taken[999].buffer, "a full slab is left behind");
  const large = slabs.take(10_000);
  assertEquals([large.byteOffset, large.buffer.byteLength], [0, 10_000]);
});
