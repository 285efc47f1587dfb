import { TimeoutError } from "@nats-io/nats-core";
import { whenReady } from "../../src/bus/durable/settle.ts";
import type { Logger } from "../../src/log.ts";
import { assertEquals, assertOk } from "../assert.ts";

const warnings: string[] = [];
const log = {
  warn: (message: string) => warnings.push(message),
} as unknown as Logger;

Deno.test("whenReady retries while JetStream is not ready, and says so once", async () => {
  let tries = 0;
  const value = await whenReady("make the streams", () => {
    tries++;
    if (tries < 3) return Promise.reject(new TimeoutError());
    return Promise.resolve("made");
  }, log);
  assertEquals([value, tries, warnings.length], ["made", 3, 1]);
});

Deno.test("whenReady throws any other error at once", async () => {
  let tries = 0;
  let thrown: unknown;
  try {
    await whenReady("make the streams", () => {
      tries++;
      return Promise.reject(
        new Error("stream CORTEX_SUBMIT exists with retention limits"),
      );
    }, log);
  } catch (error) {
    thrown = error;
  }
  assertOk(thrown instanceof Error);
  assertEquals(tries, 1);
});
