/**
 * `cortex.submitMany`'s options against a real nats-server and scheduler:
 * ids from `jobId(index)`, `roundTripMs`, jobs whose outcome cannot arrive
 * handed to `onMissing` while the others go on, `wait: false`, and the
 * errors that end a run whatever the options.
 */
import { connect, NoOutcomeError } from "../../mod.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { startTask } from "../processes.ts";
import { assertEquals, assertMatch, assertOk, eventually } from "../assert.ts";

const TOPIC = "job.sdkmany";

Deno.test("submitMany: numbered ids, round trips, onMissing, wait: false", async () => {
  await using nats = await startNatsServer();
  const scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD: "off",
    CORTEX_DURABILITY: "none",
  });
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  await using cortex = await connect({ servers: nats.url, durability: "none" });
  try {
    const seen = new Set<string>();
    await cortex.worker(TOPIC, (job) => {
      seen.add(job.id);
      return job.text().toUpperCase();
    }, { concurrency: 4 });

    // Ids from jobId(index), every outcome with its round trip.
    const ids: string[] = [];
    for await (
      const outcome of cortex.submitMany(
        TOPIC,
        Array.from({ length: 30 }, (_, i) => `p${i}`),
        { concurrency: 5, jobId: (i) => `many-${i + 1}`, timeoutMs: 20_000 },
      )
    ) {
      assertEquals(outcome.status, "COMPLETED", outcome.error);
      assertEquals(outcome.text(), `P${Number(outcome.jobId.slice(5)) - 1}`);
      assertOk(outcome.roundTripMs > 0, `round trip ${outcome.roundTripMs}`);
      ids.push(outcome.jobId);
    }
    assertEquals(
      ids.sort(),
      Array.from({ length: 30 }, (_, i) => `many-${i + 1}`).sort(),
    );

    // No worker serves job.nobody: with onMissing each job is handed to it
    // and the run ends normally; without, the first ends it.
    const missing: NoOutcomeError[] = [];
    let yielded = 0;
    for await (
      const _ of cortex.submitMany("job.nobody", ["a", "b", "c"], {
        timeoutMs: 300,
        jobId: (i) => `lost-${i}`,
        onMissing: (error) => missing.push(error),
      })
    ) yielded++;
    assertEquals(yielded, 0);
    assertEquals(missing.map((e) => e.jobId).sort(), [
      "lost-0",
      "lost-1",
      "lost-2",
    ]);
    for (const error of missing) {
      assertOk(error instanceof NoOutcomeError);
      assertEquals(error.why, "no result within 300 ms");
      assertMatch(error.message, /no outcome for job lost-\d on job\.nobody/);
    }
    const ended = await (async () => {
      for await (
        const _ of cortex.submitMany("job.nobody", ["a"], { timeoutMs: 300 })
      ) { /* none */ }
    })().then(() => undefined, (e: Error) => e);
    assertOk(ended instanceof NoOutcomeError, String(ended));

    // wait: false yields nothing, and the jobs run.
    for await (
      const _ of cortex.submitMany(TOPIC, ["x", "y", "z"], {
        wait: false,
        jobId: (i) => `sent-${i}`,
      })
    ) throw new Error("wait: false yielded an outcome");
    await eventually(
      () => ["sent-0", "sent-1", "sent-2"].every((id) => seen.has(id)),
      { what: "the jobs sent without waiting ran" },
    );

    // An id already awaited is an error.
    const twice = await (async () => {
      for await (
        const _ of cortex.submitMany(TOPIC, ["a", "b"], { jobId: () => "same" })
      ) { /* drained */ }
    })().then(() => undefined, (e: Error) => e);
    assertMatch(String(twice), /job same is already awaited/);
  } finally {
    await scheduler.stop();
  }
});

Deno.test("submitMany: no scheduler ends the run even with onMissing", async () => {
  await using nats = await startNatsServer();
  await using cortex = await connect({ servers: nats.url, durability: "none" });
  const missing: NoOutcomeError[] = [];
  const ended = await (async () => {
    for await (
      const _ of cortex.submitMany(TOPIC, ["a", "b"], {
        timeoutMs: 5_000,
        onMissing: (error) => missing.push(error),
      })
    ) { /* none */ }
  })().then(() => undefined, (e: Error) => e);
  assertMatch(String(ended), /no scheduler is listening on sys\.job\.submit/);
  assertEquals(missing.length, 0);
});
