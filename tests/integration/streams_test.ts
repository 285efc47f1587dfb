/**
 * Durable mode's streams set themselves up: made at first start, left as
 * they are (or brought to the settings) at every other, and a stream of the
 * same name that CortexOS did not make is refused with what to do.
 */
import { jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import {
  ATTEMPT_STREAM,
  ensureStreams,
  StreamMismatch,
  SUBMIT_STREAM,
  WORK_STREAM,
} from "../../src/bus/durable/layout.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { assertEquals, assertOk } from "../assert.ts";

const SETTINGS = {
  replicas: 1,
  dedupeWindowMs: 120_000,
  historyMs: 86_400_000,
};

Deno.test("ensureStreams makes the streams once and is idempotent", async () => {
  await using nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, SETTINGS);
    await ensureStreams(jsm, { ...SETTINGS, dedupeWindowMs: 60_000 });
    for (const name of [SUBMIT_STREAM, WORK_STREAM, ATTEMPT_STREAM]) {
      const info = await jsm.streams.info(name);
      assertEquals(info.config.retention, RetentionPolicy.Workqueue);
      assertEquals(info.config.duplicate_window, 60_000 * 1_000_000);
    }
  } finally {
    await nc.close();
  }
});

Deno.test("a stream of the same name made otherwise is refused, not misused", async () => {
  await using nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: SUBMIT_STREAM,
      subjects: ["sys.job.submit"],
    });
    let refused: unknown;
    try {
      await ensureStreams(jsm, SETTINGS);
    } catch (error) {
      refused = error;
    }
    assertOk(refused instanceof StreamMismatch, String(refused));
    assertOk(/nats stream rm CORTEX_SUBMIT/.test(refused.message));
    const info = await jsm.streams.info(SUBMIT_STREAM);
    assertEquals(info.config.retention, RetentionPolicy.Limits); // untouched
  } finally {
    await nc.close();
  }
});
