import { create } from "@bufbuild/protobuf";
import {
  type BusPacket,
  JobRequestSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import type { Bus, PacketHandler } from "../../src/bus/bus.ts";
import { packet } from "../../src/bus/codec.ts";
import { logger } from "../../src/log.ts";
import { type JobHandler, Worker } from "../../src/worker/runtime.ts";
import { assertOk } from "../assert.ts";

/** An in-memory bus: records what is published, delivers what the test sends. */
function memoryBus() {
  const published: BusPacket[] = [];
  const handlers = new Map<string, PacketHandler>();
  // Built untyped and asserted, so it fits the Bus of every branch (with
  // or without flush()).
  const bus = {
    publish: (_subject: string, message: BusPacket) =>
      void published.push(message),
    publishRaw() {},
    subscribe(subject: string, handler: PacketHandler) {
      handlers.set(subject, handler);
      return { unsubscribe: () => void handlers.delete(subject) };
    },
    flush: () => Promise.resolve(),
    connected: true,
    undecodable: 0,
  } as Bus;
  const send = (jobId: string) =>
    handlers.get("job.echo")?.(
      packet({
        case: "jobRequest",
        value: create(JobRequestSchema, { jobId, topic: "job.echo" }),
      }, { senderId: "test", traceId: `trace-${jobId}` }),
      new Uint8Array(0),
      "job.echo",
    );
  const results = () =>
    published.flatMap((p) =>
      p.payload.case === "jobResult" ? [p.payload.value] : []
    );
  return { bus, send, results };
}

function worker(bus: Bus, handler: JobHandler, concurrency = 1): Worker {
  return new Worker({
    bus,
    log: logger("test"),
    handler,
    workerId: "w1",
    pool: "echo",
    topic: "job.echo",
    region: "test",
    type: "echo",
    capabilities: [],
    concurrency,
    heartbeatMs: 60_000,
  });
}

Deno.test("a synchronous handler's results go out at once and in order", async () => {
  const { bus, send, results } = memoryBus();
  const w = worker(
    bus,
    (job) => ({ status: "completed", output: job.payload }),
  );
  w.start();
  for (let i = 0; i < 5_000; i++) send(`j${i}`);
  const got = results();
  assertOk(got.length === 5_000, `${got.length} results`);
  assertOk(got.every((r, i) => r.jobId === `j${i}`));
  assertOk(got.every((r) => r.status === JobStatus.COMPLETED));
  await w.stop();
});

Deno.test("thrown errors and rejections become FAILED; async jobs respect concurrency", async () => {
  const { bus, send, results } = memoryBus();
  let running = 0;
  let most = 0;
  const w = worker(bus, async (job) => {
    if (job.jobId === "throw") throw new Error("boom");
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    if (job.jobId === "reject") throw new Error("nope");
    return { status: "completed", output: new Uint8Array(0) };
  }, 2);
  w.start();
  for (const id of ["a", "throw", "b", "reject", "c"]) send(id);
  await w.stop(); // waits for every accepted job
  const byId = Object.fromEntries(results().map((r) => [r.jobId, r]));
  assertOk(Object.keys(byId).length === 5);
  assertOk(
    byId.throw.status === JobStatus.FAILED && byId.throw.error === "boom",
  );
  assertOk(
    byId.reject.status === JobStatus.FAILED && byId.reject.error === "nope",
  );
  assertOk(byId.c.status === JobStatus.COMPLETED);
  assertOk(most === 2, `at most ${most} at once`);
});

Deno.test("a handler that throws synchronously fails only its job", async () => {
  const { bus, send, results } = memoryBus();
  const w = worker(bus, (job) => {
    if (job.jobId === "bad") throw new Error("sync boom");
    return { status: "completed", output: new Uint8Array(0) };
  });
  w.start();
  send("ok1");
  send("bad");
  send("ok2");
  const got = results();
  assertOk(got.map((r) => r.status).join() === "1,2,1");
  await w.stop();
});
