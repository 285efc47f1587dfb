/**
 * The submit CLI in durable mode: a job is accepted once CORTEX_SUBMIT has
 * stored it, whether or not a scheduler runs, and a server without the
 * streams is a clear error.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { ensureStreams, SUBMIT_STREAM } from "../../src/bus/durable/layout.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { runTask } from "../../scripts/support/tasks.ts";
import { assertEquals, assertMatch } from "../assert.ts";

const SETTINGS = { replicas: 1, dedupeWindowMs: 120_000, historyMs: 3_600_000 };

Deno.test("durable submit: stored while no scheduler runs; no streams is exit 2", async () => {
  await using nats = await startNatsServer();
  const env = { NATS_URL: nats.url, CORTEX_DURABILITY: "jetstream" };

  const early = await runTask("submit", ["--no-wait"], env);
  assertEquals(early.code, 2, early.stderr);
  assertMatch(early.stderr, /no stream CORTEX_SUBMIT stores sys\.job\.submit/);

  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, SETTINGS);
    const run = await runTask(
      "submit",
      ["--no-wait", "--count", "5", "--max-attempts", "2", "--json"],
      env,
    );
    assertEquals(run.code, 0, run.stderr);
    assertEquals(JSON.parse(run.stdout.trim()), {
      submitted: 5,
      topic: "job.echo",
    });
    const info = await jsm.streams.info(SUBMIT_STREAM);
    assertEquals(info.state.messages, 5);
  } finally {
    await nc.close();
  }
});

Deno.test("durable submit on a server without JetStream asked for is exit 2", async () => {
  await using nats = await startNatsServer({ jetstream: false });
  const run = await runTask("submit", ["--no-wait"], {
    NATS_URL: nats.url,
    CORTEX_DURABILITY: "jetstream",
  });
  assertEquals(run.code, 2, run.stderr);
  assertMatch(run.stderr, /does not offer JetStream/);
});
