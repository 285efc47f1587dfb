/**
 * An SDK worker stopped mid-job, against a real nats-server and the real
 * scheduler process: in core mode a job that finishes within the grace is
 * COMPLETED and one that runs past it sees its signal aborted and is
 * FAILED saying why; in durable mode the job aborted by the stop is not
 * lost: another worker runs it again, and its handler sees `attempt` 2.
 */
import { connect, type Job } from "../../mod.ts";
import {
  type NatsServer,
  startNatsServer,
} from "../../scripts/support/nats_server.ts";
import { startTask } from "../processes.ts";
import { assertEquals, assertMatch, eventually } from "../assert.ts";

const TOPIC = "job.stoptest";

async function startScheduler(
  nats: NatsServer,
  durability: "none" | "jetstream",
) {
  const scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD: "off",
    CORTEX_DURABILITY: durability,
  });
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  return scheduler;
}

/** Resolves when `job`'s signal aborts, rejecting with its reason. */
function untilAborted(job: Job): Promise<never> {
  return new Promise((_, reject) => {
    if (job.signal.aborted) reject(job.signal.reason);
    job.signal.addEventListener("abort", () => reject(job.signal.reason));
  });
}

Deno.test("sdk, core mode: a worker stopped mid-job finishes what ends within the grace, and aborts the signal of what does not", async () => {
  await using nats = await startNatsServer();
  await using _scheduler = await startScheduler(nats, "none");
  await using cortex = await connect({
    servers: nats.url,
    durability: "none",
  });
  const running = new Set<string>();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const worker = await cortex.worker(TOPIC, async (job) => {
    running.add(job.text());
    if (job.text() === "quick") {
      await gate;
      return "finished";
    }
    return await untilAborted(job);
  }, { concurrency: 2, stopGraceMs: 500 });

  const quick = cortex.submit(TOPIC, "quick", { timeoutMs: 20_000 });
  const stuck = cortex.submit(TOPIC, "stuck", { timeoutMs: 20_000 });
  await eventually(() => running.size === 2, { what: "both jobs running" });
  const stopped = worker.stop();
  release();

  const done = await quick;
  assertEquals([done.status, done.text()], ["COMPLETED", "finished"]);
  const aborted = await stuck;
  assertEquals(aborted.status, "FAILED");
  assertMatch(
    aborted.error,
    /^worker stoptest-\w+ is stopping: the job ran past its 500 ms grace \(stopGraceMs\)$/,
  );
  await stopped;
  assertEquals(worker.active, 0);
});

Deno.test("sdk, durable mode: a job whose worker stops mid-job is run again by another, as attempt 2", async () => {
  await using nats = await startNatsServer();
  await using _scheduler = await startScheduler(nats, "jetstream");
  await using cortex = await connect({
    servers: nats.url,
    durability: "jetstream",
  });
  const attempts: { worker: string; attempt: number }[] = [];
  const handler = (name: string) => async (job: Job) => {
    attempts.push({ worker: name, attempt: job.attempt });
    if (name === "first") return await untilAborted(job);
    return `attempt ${job.attempt} by ${name}`;
  };
  const options = { stopGraceMs: 200, retryBaseMs: 100 };
  const first = await cortex.worker(TOPIC, handler("first"), {
    ...options,
    id: "first",
  });
  const outcome = cortex.submit(TOPIC, "x", {
    maxAttempts: 3,
    timeoutMs: 30_000,
  });
  await eventually(() => attempts.length === 1, { what: "attempt 1 running" });
  await cortex.worker(TOPIC, handler("second"), { ...options, id: "second" });
  await first.stop();

  const result = await outcome;
  assertEquals(result.status, "COMPLETED", result.error);
  assertEquals(result.text(), "attempt 2 by second");
  assertEquals(result.attempts, 2);
  assertEquals(result.workerId, "second");
  assertEquals(attempts, [
    { worker: "first", attempt: 1 },
    { worker: "second", attempt: 2 },
  ]);
});
