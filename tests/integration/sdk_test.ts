/**
 * The SDK against a real nats-server and the real scheduler process: an
 * SDK worker serves a topic, an SDK client submits to it, core and durable.
 */
import { connect, type Cortex } from "../../mod.ts";
import {
  type NatsServer,
  startNatsServer,
} from "../../scripts/support/nats_server.ts";
import { startTask } from "../processes.ts";
import { assertEquals, assertMatch, assertOk, eventually } from "../assert.ts";

const TOPIC = "job.sdktest";

/** A scheduler in `durability` mode and a Cortex with a worker on TOPIC. */
async function startStack(nats: NatsServer, durability: "none" | "jetstream") {
  const scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD: "off",
    CORTEX_DURABILITY: durability,
    CORTEX_MAX_ATTEMPTS: "1",
  });
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  const cortex = await connect({ servers: nats.url, durability });
  assertEquals(cortex.durability, durability === "none" ? "core" : "jetstream");
  await cortex.worker(TOPIC, (job) => {
    const input = job.text();
    if (input === "throw") throw new Error("asked to fail");
    if (input.startsWith("{")) {
      const { n } = job.json<{ n: number }>();
      return { doubled: n * 2, id: job.id };
    }
    if (job.payload[0] === 0) return job.payload.slice().reverse();
    return `got ${input}`;
  }, { concurrency: 4 });
  return {
    cortex,
    async [Symbol.asyncDispose]() {
      await cortex.close();
      await scheduler.stop();
    },
  };
}

async function roundTrips(cortex: Cortex) {
  const json = await cortex.submit(TOPIC, { n: 21 }, {
    jobId: "sdk-json-1",
    timeoutMs: 20_000,
  });
  assertEquals(json.status, "COMPLETED", json.error);
  assertEquals(json.json(), { doubled: 42, id: "sdk-json-1" });
  assertEquals(json.jobId, "sdk-json-1");
  assertMatch(json.workerId, /^sdktest-/);
  assertEquals(json.attempts, 1);

  const text = await cortex.submit(TOPIC, "hello", { timeoutMs: 20_000 });
  assertEquals(text.status, "COMPLETED", text.error);
  assertEquals(text.text(), "got hello");

  const bytes = await cortex.submit(TOPIC, new Uint8Array([0, 1, 2, 255]), {
    priority: "critical",
    timeoutMs: 20_000,
  });
  assertEquals(bytes.status, "COMPLETED", bytes.error);
  assertEquals(bytes.output, new Uint8Array([255, 2, 1, 0]));

  const thrown = await cortex.submit(TOPIC, "throw", { timeoutMs: 20_000 });
  assertEquals(thrown.status, "FAILED");
  assertEquals(thrown.error, "asked to fail");
  assertEquals(thrown.output.length, 0);
}

Deno.test("sdk, core mode: JSON, string and bytes jobs, a throw is FAILED, no worker times out", async () => {
  await using nats = await startNatsServer();
  await using stack = await startStack(nats, "none");
  await roundTrips(stack.cortex);

  const many = await Promise.all(
    Array.from(
      { length: 20 },
      (_, i) => stack.cortex.submit(TOPIC, { n: i }, { timeoutMs: 20_000 }),
    ),
  );
  assertEquals(many.map((o) => o.json<{ doubled: number }>().doubled), [
    ...Array.from({ length: 20 }, (_, i) => i * 2),
  ]);

  // 1,000 jobs through submitMany, at most 50 awaited at once.
  const seen = new Set<number>();
  for await (
    const outcome of stack.cortex.submitMany(
      TOPIC,
      Array.from({ length: 1_000 }, (_, i) => ({ n: i })),
      { concurrency: 50, timeoutMs: 30_000 },
    )
  ) {
    assertEquals(outcome.status, "COMPLETED", outcome.error);
    seen.add(outcome.json<{ doubled: number }>().doubled / 2);
  }
  assertEquals(seen.size, 1_000);

  const error = await stack.cortex.submit("job.nobody", "x", { timeoutMs: 500 })
    .then(() => undefined, (e: Error) => e);
  assertOk(error, "submit with no worker resolved");
  assertMatch(
    error.message,
    /no outcome for job .* on job\.nobody within 500 ms/,
  );

  const aborted = await stack.cortex.submit("job.nobody", "x", {
    signal: AbortSignal.timeout(100),
  }).then(() => undefined, (e: Error) => e);
  assertOk(aborted, "an aborted submit resolved");
});

Deno.test("sdk, durable mode: the same round trips through JetStream", async () => {
  await using nats = await startNatsServer();
  await using stack = await startStack(nats, "jetstream");
  await roundTrips(stack.cortex);
});

Deno.test("sdk: no scheduler is a clear rejection; no NATS a clear connect error", async () => {
  await using nats = await startNatsServer();
  const cortex = await connect({ servers: nats.url, durability: "none" });
  try {
    const error = await cortex.submit(TOPIC, "x", { timeoutMs: 5_000 })
      .then(() => undefined, (e: Error) => e);
    assertOk(error);
    assertMatch(error.message, /no scheduler is listening on sys\.job\.submit/);
  } finally {
    await cortex.close();
  }
  const url = nats.url;
  await nats.stop();
  const refused = await connect({ servers: url, durability: "none" })
    .then(() => undefined, (e: Error) => e);
  assertOk(refused);
  assertMatch(refused.message, /cannot reach NATS/);
});

Deno.test("sdk: a lost connection ends submitMany with a clear error, not a timeout per job, and close still resolves", async () => {
  await using nats = await startNatsServer({ jetstream: false });
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD: "off",
    CORTEX_DURABILITY: "none",
  });
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  const serving = await connect({ servers: nats.url, durability: "none" });
  let started = 0;
  await serving.worker(TOPIC, async () => {
    started++;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    return "late";
  });
  const cortex = await connect({ servers: nats.url, durability: "none" });
  let missing = 0;
  const run = (async () => {
    // Without the rule: 50 jobs one at a time, each missing after 1.5 s.
    for await (
      const _ of cortex.submitMany(TOPIC, Array(50).fill("x"), {
        concurrency: 1,
        timeoutMs: 1_500,
        onMissing: () => missing++,
        signal: AbortSignal.timeout(30_000),
      })
    ) { /* none completes: the server goes first */ }
  })().then(() => undefined, (e: Error) => e);
  await eventually(() => started > 0, { what: "the first job started" });
  await nats.stop();
  const error = await run;
  assertOk(error, "the run ended with an error");
  assertMatch(
    error.message,
    /no connection to NATS at .* \(reconnecting\): job .* had no outcome within 1500 ms, and no job can be sent or answered until the server is back/,
  );
  assertEquals(missing, 0, "no job was reported missing one by one");
  await cortex.close();
  await serving.close();
});
