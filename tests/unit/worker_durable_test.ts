/** The durable worker over an in-memory work queue: slots, reports before acks, retries, leases, stop. */
import {
  type Heartbeat,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { RESULT } from "../../src/bus/subjects.ts";
import { CancelledJobs } from "../../src/bus/control.ts";
import { retryDelayMs } from "../../src/bus/durable/layout.ts";
import { logger } from "../../src/log.ts";
import {
  DurableFeed,
  LOST_DELIVERIES,
  NO_ATTEMPT_FINISHED,
} from "../../src/worker/durable.ts";
import { type JobHandler, Worker } from "../../src/worker/runtime.ts";
import { assertEquals, assertOk, eventually } from "../assert.ts";
import { MemoryBus } from "../memory_bus.ts";
import { FakeWorkQueue } from "../work_queue_fake.ts";

/** A handler whose jobs finish when the test says so. */
function gated(status: "completed" | "failed" = "completed") {
  const open: (() => void)[] = [];
  let calls = 0;
  const handler: JobHandler = (job) => {
    calls++;
    return new Promise((resolve) =>
      open.push(() =>
        resolve(
          status === "completed"
            ? { status, output: job.payload }
            : { status, error: "broken" },
        )
      )
    );
  };
  return {
    handler,
    release: () => open.shift()?.(),
    running: () => open.length,
    calls: () => calls,
  };
}

function feed(
  queue: FakeWorkQueue,
  handler: JobHandler,
  options: { concurrency?: number; ackWaitMs?: number } = {},
) {
  return new DurableFeed({
    queue,
    log: logger("test"),
    handler,
    workerId: "w-durable",
    topic: "job.echo",
    concurrency: options.concurrency ?? 1,
    ackWaitMs: options.ackWaitMs ?? 60_000,
    retryBaseMs: 100,
    retryMaxMs: 1_000,
    // Three tries, as a test of a report that is never stored cannot wait
    // out the ~10 s of REPORT_PAUSES_MS.
    reportPausesMs: [250, 500],
    random: () => 0,
    pullExpiresMs: 30,
  });
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

Deno.test("takes only as many jobs as it has free slots, never holding more", async () => {
  const queue = new FakeWorkQueue();
  const gate = gated();
  const f = feed(queue, gate.handler, { concurrency: 2 });
  for (let i = 0; i < 6; i++) queue.add(`j${i}`);
  await f.start();
  await eventually(() => gate.running() === 2, { what: "two running" });
  await tick(80); // several pull requests expire and are asked again meanwhile
  assertEquals(queue.delivered.length, 2);
  for (let done = 0; done < 6; done++) {
    await eventually(() => gate.running() > 0, { what: "a job running" });
    assertOk(queue.measure() <= 2, `claimed ${queue.mostClaimed}`);
    gate.release();
    await tick();
  }
  await eventually(() => queue.reports.length === 6, { what: "six reports" });
  assertOk(queue.mostClaimed <= 2, `claimed ${queue.mostClaimed}`);
  await f.stop();
});

Deno.test("each attempt is stored before its job is acked; a completed attempt is final", async () => {
  const queue = new FakeWorkQueue();
  const f = feed(
    queue,
    (job) => ({ status: "completed", output: job.payload }),
  );
  await f.start();
  queue.add("a");
  await eventually(() => queue.log.length === 2, { what: "report and ack" });
  assertEquals(queue.log, ["report a#1", "ack a"]);
  const [report] = queue.reports;
  assertEquals(
    [report.jobId, report.status, report.attempts, report.workerId],
    ["a", JobStatus.COMPLETED, 1, "w-durable"],
  );
  await f.stop();
});

Deno.test("a failed attempt with attempts left is naked with the backoff; the last is acked", async () => {
  const queue = new FakeWorkQueue();
  const f = feed(queue, () => ({ status: "failed", error: "broken" }));
  await f.start();
  const first = queue.add("r", { maxAttempts: 3, deliveryCount: 1 });
  const second = queue.add("r", { maxAttempts: 3, deliveryCount: 2 });
  const last = queue.add("r", { maxAttempts: 3, deliveryCount: 3 });
  await eventually(() => last.settled, { what: "the last attempt settled" });
  assertEquals(first.naks, [retryDelayMs(1, 100, 1_000, () => 0)]);
  assertEquals(second.naks, [retryDelayMs(2, 100, 1_000, () => 0)]);
  assertEquals([first.acked, second.acked, last.acked], [false, false, true]);
  assertEquals(queue.reports.map((r) => [r.attempts, r.error]), [
    [1, "broken"],
    [2, "broken"],
    [3, "broken"],
  ]);
  await f.stop();
});

Deno.test("max_attempts 0 means one attempt: a failure is final", async () => {
  const queue = new FakeWorkQueue();
  const f = feed(queue, () => ({ status: "failed", error: "broken" }));
  await f.start();
  const message = queue.add("zero", { maxAttempts: 0 });
  await eventually(() => message.settled, { what: "settled" });
  assertEquals([message.acked, message.naks.length], [true, 0]);
  await f.stop();
});

Deno.test("a delivery past max attempts and the lost-delivery allowance is not run: reported FAILED and acked", async () => {
  const queue = new FakeWorkQueue();
  const gate = gated();
  const f = feed(queue, gate.handler);
  await f.start();
  const past = 3 + LOST_DELIVERIES + 1;
  const message = queue.add("ghost", { maxAttempts: 3, deliveryCount: past });
  await eventually(() => message.settled, { what: "settled" });
  assertEquals(gate.calls(), 0);
  assertEquals(message.acked, true);
  const [report] = queue.reports;
  assertEquals(
    [report.status, report.attempts, report.error],
    [JobStatus.FAILED, past, NO_ATTEMPT_FINISHED],
  );
  await f.stop();
});

Deno.test("a delivery past max attempts but within the lost-delivery allowance runs", async () => {
  const queue = new FakeWorkQueue();
  const f = feed(
    queue,
    (job) => ({ status: "completed", output: job.payload }),
  );
  await f.start();
  const message = queue.add("late", { maxAttempts: 3, deliveryCount: 4 });
  await eventually(() => message.acked, { what: "acked" });
  const [report] = queue.reports;
  assertEquals([report.status, report.attempts], [JobStatus.COMPLETED, 4]);
  await f.stop();
});

Deno.test("undecodable bytes are terminated, and the next job still runs", async () => {
  const queue = new FakeWorkQueue();
  const f = feed(
    queue,
    (job) => ({ status: "completed", output: job.payload }),
  );
  await f.start();
  const junk = queue.add("junk", { bytes: new Uint8Array([0xff, 0xff, 0xff]) });
  const good = queue.add("good");
  await eventually(() => good.acked, { what: "the good job acked" });
  assertEquals([junk.termed, junk.acked], [true, false]);
  assertEquals(queue.reports.map((r) => r.jobId), ["good"]);
  await f.stop();
});

Deno.test("a report that cannot be stored leaves the job unacked: it is handed back", async () => {
  const queue = new FakeWorkQueue();
  queue.failReports = 3;
  const f = feed(
    queue,
    (job) => ({ status: "completed", output: job.payload }),
  );
  await f.start();
  const message = queue.add("lost-report");
  await eventually(() => message.settled, { what: "settled" });
  assertEquals(message.acked, false);
  assertEquals(message.naks.length, 1);
  assertEquals(queue.reports.length, 0);
  await f.stop();
});

Deno.test("a report that fails once is tried again, then the job is acked", async () => {
  const queue = new FakeWorkQueue();
  queue.failReports = 1;
  const f = feed(
    queue,
    (job) => ({ status: "completed", output: job.payload }),
  );
  await f.start();
  const message = queue.add("retried-report");
  await eventually(() => message.settled, { what: "settled" });
  assertEquals([message.acked, queue.reports.length], [true, 1]);
  await f.stop();
});

Deno.test("the lease is renewed while the handler runs, and not after", async () => {
  const queue = new FakeWorkQueue();
  const gate = gated();
  const f = feed(queue, gate.handler, { ackWaitMs: 30 });
  await f.start();
  const message = queue.add("long");
  await eventually(() => message.renewed >= 3, { what: "three renewals" });
  gate.release();
  await eventually(() => message.acked, { what: "acked" });
  const renewed = message.renewed;
  await tick(50);
  assertEquals(message.renewed, renewed);
  await f.stop();
});

Deno.test("stop finishes the jobs held, hands back what arrives after, then resolves", async () => {
  const queue = new FakeWorkQueue();
  const gate = gated();
  const f = feed(queue, gate.handler, { concurrency: 2 });
  await f.start();
  const held = queue.add("held");
  await eventually(() => gate.running() === 1, { what: "one running" });
  let stopped = false;
  const stopping = f.stop().then(() => stopped = true);
  const late = queue.add("late"); // the open request brings it after stop
  await tick(10);
  assertEquals(late.naks, [undefined]); // handed back at once, not run
  assertEquals(stopped, false);
  gate.release();
  await stopping;
  assertEquals([held.acked, gate.calls()], [true, 1]);
});

Deno.test("a durable worker heartbeats durable, and publishes nothing on sys.job.result", async () => {
  const bus = new MemoryBus();
  const queue = new FakeWorkQueue();
  const worker = new Worker({
    bus,
    log: logger("test"),
    handler: (job) => ({ status: "completed", output: job.payload }),
    workerId: "w-durable",
    pool: "echo",
    topic: "job.echo",
    region: "lab",
    type: "echo",
    capabilities: ["echo"],
    heartbeatMs: 60_000,
    durable: {
      queue,
      ackWaitMs: 60_000,
      retryBaseMs: 100,
      retryMaxMs: 1_000,
    },
  });
  await worker.start();
  queue.add("j");
  await eventually(() => queue.reports.length === 1, { what: "a report" });
  await worker.stop();
  const beats = bus.on("sys.heartbeat.echo").map((p) =>
    p.payload.value as Heartbeat
  );
  assertEquals(beats.map((h) => [h.durable, h.leaving]), [
    [true, false],
    [true, true],
  ]);
  assertEquals(bus.on(RESULT).length, 0);
});

Deno.test("cancel: a running job's signal aborts and its message is terminated unreported; a cancelled job delivered later, or listed at start, is terminated unstarted", async () => {
  const queue = new FakeWorkQueue();
  queue.cancelledIds = ["listed"];
  const cancels = new CancelledJobs();
  const started: string[] = [];
  const handler: JobHandler = (job, _attempt, signal) => {
    started.push(job.jobId);
    if (job.jobId !== "run") {
      return { status: "completed", output: job.payload };
    }
    return new Promise((resolve) =>
      signal!.addEventListener(
        "abort",
        () => resolve({ status: "failed", error: "stopped" }),
      )
    );
  };
  const f = new DurableFeed({
    queue,
    log: logger("test"),
    handler,
    workerId: "w-durable",
    topic: "job.echo",
    concurrency: 1,
    ackWaitMs: 60_000,
    retryBaseMs: 100,
    retryMaxMs: 1_000,
    random: () => 0,
    pullExpiresMs: 30,
    cancels,
  });
  queue.add("run");
  await f.start();
  await eventually(() => started.includes("run"), { what: "run started" });
  queue.add("wait");
  queue.add("listed");
  queue.add("next");
  cancels.add("wait");
  assertEquals(f.cancel("run"), true);
  assertEquals(f.cancel("not-here"), false);
  await eventually(() => queue.reports.length === 1, { what: "next reported" });
  assertEquals(started, ["run", "next"]);
  assertEquals(queue.reports.map((r) => r.jobId), ["next"]);
  assertEquals(queue.log, [
    "term run",
    "term wait",
    "term listed",
    "report next#1",
    "ack next",
  ]);
  await f.stop();
});
