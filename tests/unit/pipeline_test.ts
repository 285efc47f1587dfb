import { create } from "@bufbuild/protobuf";
import { JobRequestSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import { JobTable } from "../../src/scheduler/job_table.ts";
import { SubmitPipeline } from "../../src/scheduler/pipeline.ts";
import { SubjectPolicy } from "../../src/scheduler/safety.ts";
import { NaiveStrategy } from "../../src/scheduler/strategy.ts";
import { assertEquals } from "../assert.ts";

// The pipeline's decisions, with no bus at all.

function setup(capacity = 10) {
  const jobs = new JobTable({ capacity });
  const pipeline = new SubmitPipeline({
    safety: new SubjectPolicy({ deny: ["job.admin.>"] }),
    strategy: new NaiveStrategy(),
    jobs,
    limits: { maxPayloadBytes: 8 },
  });
  const decide = (jobId: string, topic: string, payload = "") =>
    pipeline.decide(
      create(JobRequestSchema, {
        jobId,
        topic,
        payload: new TextEncoder().encode(payload),
      }),
      { traceId: `t-${jobId}`, submitter: "test" },
    );
  return { jobs, decide };
}

Deno.test("a valid, allowed job is admitted PENDING and routed to its topic", () => {
  const { jobs, decide } = setup();
  const decision = decide("j1", "job.echo");
  assertEquals(decision.kind, "dispatch");
  if (decision.kind !== "dispatch") return;
  assertEquals(decision.subject, "job.echo");
  assertEquals(decision.record.state, "PENDING");
  assertEquals(jobs.inflight, 1);
});

Deno.test("invalid and denied jobs are refused with a reason and recorded final", () => {
  const { jobs, decide } = setup();
  const big = decide("big", "job.echo", "123456789");
  const denied = decide("wipe", "job.admin.wipe");
  assertEquals([big.kind, denied.kind], ["refuse", "refuse"]);
  if (big.kind !== "refuse" || denied.kind !== "refuse") return;
  assertEquals([big.state, denied.state], ["FAILED", "DENIED"]);
  assertEquals(jobs.get("wipe")?.state, "DENIED");
  assertEquals(denied.result.error, denied.reason);
  assertEquals(jobs.inflight, 0);
});

Deno.test("a held id is a duplicate; a table full of jobs in flight refuses", () => {
  const { decide } = setup(1);
  assertEquals(decide("a", "job.echo").kind, "dispatch");
  const again = decide("a", "job.echo");
  assertEquals(again.kind, "duplicate");
  const full = decide("b", "job.echo");
  assertEquals(full.kind, "refuse");
  if (full.kind === "refuse") assertEquals(full.record, undefined);
});
