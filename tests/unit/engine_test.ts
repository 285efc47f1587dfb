/** The scheduler's decisions over an in-memory bus: no NATS needed. */
import { create } from "@bufbuild/protobuf";
import {
  HeartbeatSchema,
  JobRequestSchema,
  JobResultSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { encodePacket, packet } from "../../src/bus/codec.ts";
import { RESULT, SUBMIT } from "../../src/bus/subjects.ts";
import { logger } from "../../src/log.ts";
import { Scheduler } from "../../src/scheduler/engine.ts";
import { JobTable } from "../../src/scheduler/job_table.ts";
import { WorkerRegistry } from "../../src/scheduler/registry.ts";
import { SubjectPolicy } from "../../src/scheduler/safety.ts";
import { NaiveStrategy } from "../../src/scheduler/strategy.ts";
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { MemoryBus } from "../memory_bus.ts";

async function setup() {
  let now = 0;
  const clock = () => now;
  const bus = new MemoryBus();
  const scheduler = new Scheduler({
    bus,
    safety: new SubjectPolicy(),
    strategy: new NaiveStrategy(),
    registry: new WorkerRegistry({ heartbeatMs: 1_000, clock }),
    jobs: new JobTable({ capacity: 100, timeoutMs: 5_000, clock }),
    limits: { maxPayloadBytes: 8 },
    senderId: "scheduler-test",
    log: logger("test"),
  });
  await scheduler.start();
  const submit = (fields: Record<string, unknown>, traceId = "trace-1") =>
    bus.publish(
      SUBMIT,
      packet({ case: "jobRequest", value: create(JobRequestSchema, fields) }, {
        senderId: "client",
        traceId,
      }),
    );
  const results = () =>
    bus.on(RESULT).map((p) => {
      const r = p.payload.value as {
        jobId: string;
        status: JobStatus;
        error: string;
      };
      return {
        jobId: r.jobId,
        status: JobStatus[r.status],
        error: r.error,
        traceId: p.traceId,
      };
    });
  return {
    bus,
    scheduler,
    submit,
    results,
    advance: (ms: number) => now += ms,
  };
}

Deno.test("a valid job is forwarded to its topic as received, with its trace id", async () => {
  const { bus, scheduler, submit } = await setup();
  const seen: string[] = [];
  bus.subscribe("job.echo", (p) => seen.push(p.traceId));
  submit({ jobId: "j1", topic: "job.echo" }, "trace-a");
  assertEquals(seen, ["trace-a"]);
  assertEquals(scheduler.jobs.get("j1")?.state, "DISPATCHED");
  assertEquals(scheduler.counters.dispatched, 1);
  scheduler.stop();
});

Deno.test("a job without id or topic gets a FAILED result saying why", async () => {
  const { scheduler, submit, results } = await setup();
  submit({ topic: "job.echo" }, "t-noid");
  submit({ jobId: "j2" }, "t-notopic");
  const [noId, noTopic] = results();
  assertEquals([noId.status, noId.error, noId.traceId], [
    "FAILED",
    "job_id is required",
    "t-noid",
  ]);
  assertEquals([noTopic.jobId, noTopic.status, noTopic.error], [
    "j2",
    "FAILED",
    "topic is required",
  ]);
  assertEquals(scheduler.jobs.get("j2")?.state, "FAILED");
  assertEquals(scheduler.counters.failed, 2);
  scheduler.stop();
});

Deno.test("an oversize payload is FAILED and not dispatched", async () => {
  const { bus, scheduler, submit, results } = await setup();
  submit({ jobId: "big", topic: "job.echo", payload: new Uint8Array(9) });
  assertMatch(results()[0].error, /9 bytes; the limit is 8/);
  assertEquals(bus.on("job.echo").length, 0);
  scheduler.stop();
});

Deno.test("sys.destroy gets a DENIED result with the reason", async () => {
  const { bus, scheduler, submit, results } = await setup();
  submit({ jobId: "boom", topic: "sys.destroy" });
  assertEquals(results()[0].status, "DENIED");
  assertMatch(results()[0].error, /sys.destroy/);
  assertEquals(bus.on("sys.destroy").length, 0);
  assertEquals(scheduler.jobs.get("boom")?.state, "DENIED");
  scheduler.stop();
});

Deno.test("a second submission of a held job id is not dispatched twice", async () => {
  const { bus, scheduler, submit, results } = await setup();
  submit({ jobId: "dup", topic: "job.echo" });
  submit({ jobId: "dup", topic: "job.echo" });
  assertEquals(bus.on("job.echo").length, 1);
  assertEquals(results(), []); // still in flight: the first result will answer both
  bus.publish(
    RESULT,
    packet({
      case: "jobResult",
      value: create(JobResultSchema, {
        jobId: "dup",
        status: JobStatus.COMPLETED,
        workerId: "w",
      }),
    }, { senderId: "w" }),
  );
  submit({ jobId: "dup", topic: "job.echo" }); // after it ended: its result is sent again
  assertEquals(bus.on("job.echo").length, 1);
  assertEquals(results().map((r) => r.status), ["COMPLETED", "COMPLETED"]);
  assertEquals(scheduler.counters.duplicates, 2);
  scheduler.stop();
});

Deno.test("a job with no result by its deadline is TIMEOUT, published once", async () => {
  const { scheduler, submit, results, advance } = await setup();
  submit({ jobId: "slow", topic: "job.echo" }, "t-slow");
  advance(4_999);
  scheduler.tick();
  assertEquals(results(), []);
  advance(1);
  scheduler.tick();
  scheduler.tick();
  assertEquals(results(), [{
    jobId: "slow",
    status: "TIMEOUT",
    error: "no result within 5000 ms",
    traceId: "t-slow",
  }]);
  assertEquals(scheduler.counters.timeout, 1);
  scheduler.stop();
});

Deno.test("results finish jobs and are counted once; observers hear of each change", async () => {
  const { bus, scheduler, submit } = await setup();
  const changes: string[] = [];
  scheduler.observe({
    jobChanged: (r) => changes.push(`${r.jobId}:${r.state}`),
  });
  submit({ jobId: "j", topic: "job.echo" });
  const result = packet({
    case: "jobResult",
    value: create(JobResultSchema, {
      jobId: "j",
      status: JobStatus.COMPLETED,
      workerId: "w1",
    }),
  }, { senderId: "w1" });
  bus.publish(RESULT, result);
  bus.publish(RESULT, result);
  assertEquals(changes, ["j:DISPATCHED", "j:COMPLETED"]);
  assertEquals([scheduler.counters.completed, scheduler.counters.lateResults], [
    1,
    1,
  ]);
  scheduler.stop();
});

Deno.test("a forged result for a job never submitted changes nothing and is counted", async () => {
  const { bus, scheduler, submit, advance } = await setup();
  const changes: string[] = [];
  scheduler.observe({ jobChanged: (r) => changes.push(r.jobId) });
  const forged = (jobId: string, senderId = "mallory") =>
    bus.publish(
      RESULT,
      packet({
        case: "jobResult",
        value: create(JobResultSchema, {
          jobId,
          status: JobStatus.COMPLETED,
          workerId: "w-forged",
        }),
      }, { senderId }),
    );
  forged("never-submitted");
  assertEquals(scheduler.jobs.get("never-submitted"), undefined);
  assertEquals([scheduler.jobs.size, scheduler.counters.completed], [0, 0]);
  assertEquals(scheduler.counters.unknownResults, 1);
  assertEquals(changes, []);
  // The scheduler's own results (a refusal, a timeout) echo back: not
  // counted as rejected.
  submit({ jobId: "slow", topic: "job.echo" });
  advance(6_000);
  scheduler.tick();
  assertEquals(scheduler.jobs.get("slow")?.state, "TIMEOUT");
  assertEquals(
    [scheduler.counters.unknownResults, scheduler.counters.lateResults],
    [1, 0],
  );
  forged("slow"); // a result after its timeout: already final
  assertEquals(scheduler.jobs.get("slow")?.state, "TIMEOUT");
  assertEquals(scheduler.counters.lateResults, 1);
  scheduler.stop();
});

Deno.test("heartbeats fill the registry; a leaving one takes the worker offline", async () => {
  const { bus, scheduler } = await setup();
  const beat = (fields: Record<string, unknown>) =>
    bus.publish(
      "sys.heartbeat.echo",
      packet({ case: "heartbeat", value: create(HeartbeatSchema, fields) }, {
        senderId: "w",
      }),
    );
  beat({ workerId: "w1", pool: "echo", maxParallelJobs: 2 });
  beat({ workerId: "" }); // ignored and counted
  assertEquals(scheduler.workers.get("w1")?.state, "online");
  assertEquals(scheduler.counters.badHeartbeats, 1);
  beat({ workerId: "w1", pool: "echo", leaving: true });
  assertEquals(scheduler.workers.get("w1")?.state, "offline");
  scheduler.stop();
});

Deno.test("a forged heartbeat with another session is refused and counted; the worker keeps its region and stays online", async () => {
  const { bus, scheduler } = await setup();
  const beat = (fields: Record<string, unknown>) =>
    bus.publish(
      "sys.heartbeat.echo",
      packet({
        case: "heartbeat",
        value: create(HeartbeatSchema, {
          workerId: "w1",
          pool: "echo",
          ...fields,
        }),
      }, { senderId: "w1" }),
    );
  beat({ region: "eu", session: "real" });
  beat({ region: "evil", session: "forged" });
  beat({ leaving: true, session: "forged" });
  const w1 = scheduler.workers.get("w1");
  assertEquals([w1?.region, w1?.state], ["eu", "online"]);
  assertEquals(scheduler.counters.badHeartbeats, 2);
  scheduler.stop();
});

Deno.test("undecodable bytes and wrong packet kinds never reach or break the scheduler", async () => {
  const { bus, scheduler, submit } = await setup();
  bus.publishRaw(SUBMIT, new Uint8Array([0xff, 0xff, 0xff]));
  bus.publishRaw(RESULT, new TextEncoder().encode("garbage"));
  bus.publishRaw(
    SUBMIT,
    encodePacket(
      packet({ case: "heartbeat", value: create(HeartbeatSchema, {}) }, {
        senderId: "x",
      }),
    ),
  );
  assertEquals(bus.undecodable, 2);
  submit({ jobId: "after", topic: "job.echo" });
  assertOk(scheduler.jobs.get("after"));
  scheduler.stop();
});
