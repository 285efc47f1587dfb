import { create } from "@bufbuild/protobuf";
import {
  JobRequestSchema,
  JobResultSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { JobTable, PREVIEW_BYTES } from "../../src/scheduler/job_table.ts";
import { assertEquals, assertOk } from "../assert.ts";

function setup(capacity = 3, timeoutMs = 1_000) {
  let now = 0;
  const table = new JobTable({ capacity, timeoutMs, clock: () => now });
  const admit = (jobId: string, payload = "") =>
    table.admit(
      create(JobRequestSchema, {
        jobId,
        topic: "job.echo",
        payload: new TextEncoder().encode(payload),
      }),
      { traceId: `t-${jobId}`, submitter: "test" },
    );
  const finish = (jobId: string, status = JobStatus.COMPLETED) =>
    table.finish(
      create(JobResultSchema, {
        jobId,
        status,
        workerId: "w1",
        executionMs: 5n,
      }),
    );
  return { table, admit, finish, advance: (ms: number) => now += ms };
}

Deno.test("a job goes PENDING → DISPATCHED → COMPLETED with timestamps", () => {
  const { table, admit, finish, advance } = setup();
  const admission = admit("a", "hello");
  assertOk(admission.admitted);
  const record = admission.record;
  assertEquals(record.state, "PENDING");
  assertEquals(record.payloadPreview, "hello");
  advance(1);
  table.dispatched(record, "job.echo");
  assertEquals([record.state, record.dispatchedAt], ["DISPATCHED", 1]);
  advance(9);
  finish("a");
  assertEquals(
    [record.state, record.finishedAt, record.workerId, record.executionMs],
    ["COMPLETED", 10, "w1", 5],
  );
  assertEquals(table.inflight, 0);
});

Deno.test("the first result wins; later ones change nothing", () => {
  const { table, admit, finish } = setup();
  admit("a");
  assertOk(finish("a", JobStatus.FAILED));
  assertEquals(finish("a", JobStatus.COMPLETED), undefined);
  assertEquals(table.get("a")?.state, "FAILED");
});

Deno.test("a job id still held is not admitted twice", () => {
  const { admit, finish } = setup();
  admit("a");
  const again = admit("a");
  assertOk(
    !again.admitted && "existing" in again && again.existing.jobId === "a",
  );
  finish("a");
  assertOk(!admit("a").admitted);
});

Deno.test("when full, the oldest finished job is evicted first, never one in flight", () => {
  const { table, admit, finish } = setup(3);
  admit("a");
  admit("b");
  admit("c");
  finish("b"); // b finished first, then a
  finish("a");
  assertOk(admit("d").admitted);
  assertEquals(table.get("b"), undefined);
  assertOk(table.get("a"));
  assertOk(admit("e").admitted);
  assertEquals(table.get("a"), undefined);
  assertEquals(table.size, 3);
  const refused = admit("f"); // c, d, e are all in flight
  assertOk(!refused.admitted && "full" in refused);
  assertEquals(table.size, 3);
});

Deno.test("jobs past their deadline expire as TIMEOUT, in order, once", () => {
  const { table, admit, finish, advance } = setup(10, 1_000);
  admit("a");
  advance(500);
  admit("b");
  admit("c");
  finish("c");
  advance(499);
  assertEquals(table.expire(), []);
  advance(1);
  assertEquals(table.expire().map((r) => r.jobId), ["a"]);
  assertEquals(table.get("a")?.state, "TIMEOUT");
  assertEquals(table.get("a")?.error, "no result within 1000 ms");
  advance(500);
  assertEquals(table.expire().map((r) => r.jobId), ["b"]);
  assertEquals(table.expire(), []);
  assertEquals(finish("a"), undefined); // a late result does not undo the timeout
  assertEquals(table.get("c")?.state, "COMPLETED");
});

Deno.test("a result for a job never admitted is not recorded: never shown as a job", () => {
  const { table, finish } = setup();
  assertEquals(finish("elsewhere"), undefined);
  assertEquals([table.size, table.inflight], [0, 0]);
  assertEquals(table.get("elsewhere"), undefined);
});

Deno.test("previews are bounded; recent lists newest first with a filter", () => {
  const { table, admit, finish } = setup(10);
  admit("big", "x".repeat(PREVIEW_BYTES * 3));
  assertEquals(table.get("big")?.payloadPreview.length, PREVIEW_BYTES);
  assertEquals(table.get("big")?.payloadBytes, PREVIEW_BYTES * 3);
  admit("b");
  admit("c");
  finish("b");
  assertEquals(table.recent(2).map((r) => r.jobId), ["c", "b"]);
  assertEquals(
    table.recent(10, (r) => r.state === "COMPLETED").map((r) => r.jobId),
    ["b"],
  );
});
