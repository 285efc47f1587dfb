import { create } from "@bufbuild/protobuf";
import {
  JobRequestSchema,
  JobResultSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { JobTable } from "../../src/scheduler/job_table.ts";
import { assertOk } from "../assert.ts";

function same(actual: unknown, expected: unknown, what: string): void {
  assertOk(
    JSON.stringify(actual) === JSON.stringify(expected),
    `${what}: ${JSON.stringify(actual)}`,
  );
}

const job = (id: string) =>
  create(JobRequestSchema, { jobId: id, topic: "job.echo" });
const done = (id: string) =>
  create(JobResultSchema, { jobId: id, status: JobStatus.COMPLETED });
const meta = { traceId: "t", submitter: "test" };

Deno.test("the job table evicts the oldest finished job first, over many wraps of its queue", () => {
  const table = new JobTable({ capacity: 3 });
  for (let i = 0; i < 1_000; i++) {
    const admission = table.admit(job(`j${i}`), meta);
    assertOk(admission.admitted, `j${i} admitted`);
    // Finish in a shuffled order within each pair: eviction follows finish order.
    if (i % 2 === 1) {
      table.finish(done(`j${i}`));
      table.finish(done(`j${i - 1}`));
    }
  }
  same(table.size, 3, "size");
  assertOk(table.get("j999"));
  assertOk(table.get("j998"));
  same(table.get("j997"), undefined, "j997, finished before j996");
  assertOk(table.get("j996"));
});

Deno.test("the first result wins, and an evicted id can be submitted again", () => {
  const table = new JobTable({ capacity: 1 });
  table.admit(job("a"), meta);
  assertOk(table.finish(done("a")));
  same(table.finish(done("a")), undefined, "second result");
  const b = table.admit(job("b"), meta);
  assertOk(b.admitted);
  same(table.get("a"), undefined, "evicted a");
  const full = table.admit(job("c"), meta);
  same(full, { admitted: false, full: true }, "admission when full");
  table.finish(done("b"));
  assertOk(table.admit(job("a"), meta).admitted);
});

Deno.test("a result for a job never seen is not recorded; one after a timeout changes nothing", () => {
  let now = 0;
  const table = new JobTable({
    capacity: 10,
    timeoutMs: 100,
    clock: () => now,
  });
  same(table.finish(done("stranger")), undefined, "forged result");
  same(table.get("stranger"), undefined, "no entry for it");
  same(table.size, 0, "size");
  table.admit(job("slow"), meta);
  now = 150;
  same(table.expire().map((r) => r.jobId), ["slow"], "expired");
  same(table.finish(done("slow")), undefined, "late result");
  same(table.get("slow")?.state, "TIMEOUT", "state after a late result");
  same(table.inflight, 0, "in flight");
});
