/** The worker runtime over an in-memory bus: concurrency, results, drain, heartbeats. */
import { create } from "@bufbuild/protobuf";
import {
  type Heartbeat,
  JobRequestSchema,
  type JobResult,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { packet } from "../../src/bus/codec.ts";
import { CANCEL, DRAIN, RESULT } from "../../src/bus/subjects.ts";
import { cancelNotice, drainNotice } from "../../src/bus/control.ts";
import { logger } from "../../src/log.ts";
import { echoJob, SIMULATED_FAILURE } from "../../src/worker/echo.ts";
import type { Job } from "../../src/sdk/types.ts";
import { type JobHandler, Worker } from "../../src/worker/runtime.ts";
import { assertEquals, assertOk } from "../assert.ts";
import { callRoll } from "../../src/scheduler/roll_call.ts";
import { MemoryBus } from "../memory_bus.ts";

function setup(handler: JobHandler, concurrency = 1) {
  const bus = new MemoryBus();
  const worker = new Worker({
    bus,
    log: logger("test"),
    handler,
    workerId: "w-test",
    pool: "echo",
    topic: "job.echo",
    region: "lab",
    type: "echo",
    capabilities: ["echo"],
    concurrency,
    heartbeatMs: 60_000,
  });
  const send = (jobId: string, payload = "") =>
    bus.publish(
      "job.echo",
      packet({
        case: "jobRequest",
        value: create(JobRequestSchema, {
          jobId,
          topic: "job.echo",
          payload: new TextEncoder().encode(payload),
        }),
      }, { senderId: "scheduler", traceId: `t-${jobId}` }),
    );
  const results = () =>
    bus.on(RESULT).map((p) => ({
      ...(p.payload.value as JobResult),
      traceId: p.traceId,
    }));
  const heartbeats = () =>
    bus.on("sys.heartbeat.echo").map((p) => p.payload.value as Heartbeat);
  return { bus, worker, send, results, heartbeats };
}

/** A handler whose jobs finish when the test says so. */
function gated() {
  const open: (() => void)[] = [];
  const handler: JobHandler = (job) =>
    new Promise((resolve) =>
      open.push(() => resolve({ status: "completed", output: job.payload }))
    );
  return {
    handler,
    release: () => open.shift()?.(),
    pending: () => open.length,
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("the first heartbeat goes out at start with the worker's facts", async () => {
  const { worker, heartbeats } = setup(instant, 3);
  await worker.start();
  const [hb] = heartbeats();
  assertEquals(
    [
      hb.workerId,
      hb.pool,
      hb.region,
      hb.type,
      hb.capabilities,
      hb.maxParallelJobs,
      hb.leaving,
    ],
    ["w-test", "echo", "lab", "echo", ["echo"], 3, false],
  );
  assertOk(Number.isFinite(hb.cpuLoad) && hb.cpuLoad >= 0);
  await worker.stop();
});

Deno.test("the echo job returns its payload with the trace id and worker id", async () => {
  const { worker, send, results } = setup(instant);
  await worker.start();
  send("j1", "ping");
  await tick();
  const [r] = results();
  assertEquals(
    [
      r.jobId,
      r.status,
      r.workerId,
      new TextDecoder().decode(r.output),
      r.traceId,
    ],
    ["j1", JobStatus.COMPLETED, "w-test", "ping", "t-j1"],
  );
  await worker.stop();
});

Deno.test("at most `concurrency` jobs run at once; the rest wait in order", async () => {
  const gate = gated();
  const { worker, send, results } = setup(gate.handler, 2);
  await worker.start();
  for (const id of ["a", "b", "c", "d"]) send(id);
  assertEquals([worker.active, gate.pending()], [2, 2]);
  gate.release();
  await tick();
  assertEquals([worker.active, gate.pending()], [2, 2]); // c started as a finished
  for (let i = 0; i < 3; i++) {
    gate.release();
    await tick();
  }
  assertEquals(results().map((r) => r.jobId), ["a", "b", "c", "d"]);
  assertEquals(worker.active, 0);
  await worker.stop();
});

Deno.test("a handler that throws yields a FAILED result with the message", async () => {
  const { worker, send, results } = setup(() => {
    throw new Error("disk on fire");
  });
  await worker.start();
  send("x");
  await tick();
  assertEquals([results()[0].status, results()[0].error], [
    JobStatus.FAILED,
    "disk on fire",
  ]);
  await worker.stop();
});

Deno.test("stop finishes accepted jobs, takes no new ones, then says it is leaving", async () => {
  const gate = gated();
  const { worker, send, results, heartbeats } = setup(gate.handler, 1);
  await worker.start();
  send("running");
  send("queued");
  const stopped = worker.stop();
  send("too-late"); // the subscription is gone
  gate.release();
  await tick();
  gate.release();
  await stopped;
  assertEquals(results().map((r) => r.jobId), ["running", "queued"]);
  const last = heartbeats().at(-1)!;
  assertEquals([last.leaving, last.activeJobs], [true, 0]);
});

/** A handler that returns its payload at once, as the echo worker with 0 ms does. */
const instant: JobHandler = (job) => ({
  status: "completed",
  output: job.payload,
});

/** Just enough of a `Job` for the echo handler, which reads its payload. */
const echoed = { payload: new Uint8Array([1, 2]) } as Job;

Deno.test("echo work time is uniform in [min, max]", async () => {
  const handler = echoJob({ minMs: 10, maxMs: 30, random: () => 0.5 });
  const started = performance.now();
  assertEquals(await handler(echoed), echoed.payload);
  assertOk(performance.now() - started >= 15, "waited about (10 + 30) / 2 ms");
});

Deno.test('the echo job fails with "simulated failure" at its fail rate, at once with 0 ms', () => {
  const draws = [0.5, 0.2, 0.5, 0.9]; // work time, fail draw; work time, fail draw
  const handler = echoJob({
    minMs: 0,
    maxMs: 0,
    failRate: 0.5,
    random: () => draws.shift()!,
  });
  let thrown: unknown;
  try {
    handler(echoed);
  } catch (error) {
    thrown = error;
  }
  assertEquals((thrown as Error).message, SIMULATED_FAILURE);
  assertEquals(handler(echoed), echoed.payload, "answered without a promise");
  const never = echoJob({ minMs: 0, maxMs: 0, random: () => 0 });
  assertEquals(never(echoed), echoed.payload);
});

Deno.test("a roll call is answered with a heartbeat at once, at most one per 250 ms; none after stop", async () => {
  const { bus, worker, heartbeats } = setup(instant);
  await worker.start();
  assertEquals(heartbeats().length, 1); // the first, at start
  const call = () => callRoll(bus, "scheduler-test");
  call();
  call(); // a flood makes no flood of heartbeats
  call();
  assertEquals(heartbeats().length, 2);
  await new Promise((r) => setTimeout(r, 300));
  call();
  assertEquals(heartbeats().length, 3);
  await worker.stop(); // its goodbye heartbeat
  const after = heartbeats().length;
  await new Promise((r) => setTimeout(r, 300));
  call();
  assertEquals(heartbeats().length, after);
});

Deno.test("a cancel notice aborts the running job's signal and drops the waiting one; neither is reported, later jobs run", async () => {
  const started: string[] = [];
  const aborted: string[] = [];
  const handler: JobHandler = (job, _attempt, signal) => {
    started.push(job.jobId);
    if (job.jobId !== "run") {
      return { status: "completed", output: job.payload };
    }
    return new Promise((resolve) =>
      signal!.addEventListener("abort", () => {
        aborted.push(String((signal!.reason as Error).message));
        resolve({ status: "completed", output: new Uint8Array([1]) });
      })
    );
  };
  const { bus, worker, send, results } = setup(handler, 1);
  await worker.start();
  send("run");
  send("wait");
  bus.publish(CANCEL, cancelNotice("wait", "scheduler"));
  bus.publish(CANCEL, cancelNotice("run", "scheduler"));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(aborted, ["job run was cancelled"]);
  send("wait"); // delivered again: still skipped
  send("next");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(started, ["run", "next"]);
  assertEquals(results().map((r) => r.jobId), ["next"]);
  await worker.stop();
});

Deno.test("drain: a core worker leaves its queue group and finishes what it holds; resume takes jobs again", async () => {
  const { bus, worker, send, results } = setup(
    (job) => ({ status: "completed", output: job.payload }),
  );
  await worker.start();
  bus.publish(DRAIN, drainNotice("someone-else", "drain", "scheduler"));
  assertEquals(worker.draining, false);
  bus.publish(DRAIN, drainNotice("w-test", "drain", "scheduler"));
  assertEquals(worker.draining, true);
  send("while-draining");
  assertEquals(results().length, 0);
  bus.publish(DRAIN, drainNotice("w-test", "resume", "scheduler"));
  send("after");
  assertEquals(results().map((r) => r.jobId), ["after"]);
  await worker.stop();
});
