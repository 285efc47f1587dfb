/**
 * `CORTEX_DURABILITY` left unset (`auto`): the processes started as the
 * README starts them are durable on a server with JetStream and core on one
 * without, and a core scheduler says so when a durable worker joins it.
 */
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { LEDGER_BUCKET, ledgerKey } from "../../src/bus/durable/layout.ts";
import { JobState } from "../../src/contract/vocabulary.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { assertEquals, assertOk } from "../assert.ts";
import { runTask, startTask } from "../processes.ts";

/** The environment without CORTEX_DURABILITY, whatever the test runner has. */
function withoutMode(url: string): Record<string, string> {
  return { NATS_URL: url, CORTEX_DASHBOARD: "off", CORTEX_DURABILITY: "" };
}

Deno.test("default mode on a -js server: durability: jetstream, and a job from the submit CLI is stored and completes", async () => {
  await using nats = await startNatsServer();
  const env = withoutMode(nats.url);
  await using scheduler = startTask("scheduler", [], env);
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  assertOk(
    scheduler.lines.some((l) => /durability: jetstream$/.test(l)),
    "the scheduler says durability: jetstream",
  );
  await using worker = startTask("worker:echo", [], {
    ...env,
    CORTEX_ECHO_MIN_MS: "0",
    CORTEX_ECHO_MAX_MS: "0",
  });
  await worker.waitFor(/taking job\.echo from stream/, 60_000);
  assertOk(worker.lines.some((l) => /durability: jetstream$/.test(l)));

  const submit = await runTask(
    "submit",
    ["--json", "--timeout", "30s"],
    env,
  );
  assertEquals(submit.code, 0, submit.stderr);
  const job = JSON.parse(submit.stdout.split("\n")[0]);
  assertEquals([job.status, job.attempts], [JobState.COMPLETED, 1]);

  const nc = await connect({ servers: nats.url });
  try {
    const kv = await new Kvm(nc).open(LEDGER_BUCKET);
    const entry = await kv.get(ledgerKey(job.job_id));
    assertOk(entry, "the job is in the ledger");
    assertEquals(entry.json<{ state: string }>().state, JobState.COMPLETED);
  } finally {
    await nc.close();
  }
});

Deno.test("default mode on a server without JetStream: durability: core, and jobs complete", async () => {
  await using nats = await startNatsServer({ jetstream: false });
  const env = withoutMode(nats.url);
  await using scheduler = startTask("scheduler", [], env);
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  assertOk(scheduler.lines.some((l) => /durability: core$/.test(l)));
  await using worker = startTask("worker:echo", [], env);
  await worker.waitFor(/taking job\.echo in queue group/, 60_000);
  assertOk(worker.lines.some((l) => /durability: core$/.test(l)));
  const submit = await runTask("submit", ["--count", "3"], env);
  assertEquals(submit.code, 0, submit.stderr);
});

Deno.test("a core scheduler (none) warns when a durable worker joins it", async () => {
  await using nats = await startNatsServer();
  const env = withoutMode(nats.url);
  await using scheduler = startTask("scheduler", [], {
    ...env,
    CORTEX_DURABILITY: "none",
  });
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  await using _worker = startTask("worker:echo", [], env);
  const line = await scheduler.waitFor(
    /takes jobs from JetStream, but this scheduler runs in core mode/,
    60_000,
  );
  assertOk(/CORTEX_DURABILITY/.test(line));
});

Deno.test("a core scheduler (none) warns when a durable scheduler left the submissions stream", async () => {
  await using nats = await startNatsServer();
  const env = withoutMode(nats.url);
  {
    await using durable = startTask("scheduler", [], env);
    await durable.waitFor(/serving sys\.job\.submit/, 60_000);
  }
  await using core = startTask("scheduler", [], {
    ...env,
    CORTEX_DURABILITY: "none",
  });
  await core.waitFor(/serving sys\.job\.submit/, 60_000);
  assertOk(
    core.lines.some((l) =>
      /stream CORTEX_SUBMIT exists on this server/.test(l)
    ),
    "the core scheduler warns of the stream",
  );
});
