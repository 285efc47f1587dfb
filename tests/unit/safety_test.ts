import { create } from "@bufbuild/protobuf";
import { JobRequestSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import { SubjectPolicy } from "../../src/scheduler/safety.ts";
import { NaiveStrategy } from "../../src/scheduler/strategy.ts";
import { assertEquals, assertMatch, assertOk } from "../assert.ts";

const job = (topic: string) => create(JobRequestSchema, { jobId: "j", topic });

function reason(policy: SubjectPolicy, topic: string): string | undefined {
  const verdict = policy.check(job(topic));
  return verdict.allowed ? undefined : verdict.reason;
}

Deno.test("sys.destroy is denied by default; ordinary topics are allowed", () => {
  const policy = new SubjectPolicy();
  assertMatch(
    reason(policy, "sys.destroy")!,
    /denied by safety policy \(pattern "sys.destroy"\)/,
  );
  assertEquals(reason(policy, "job.echo"), undefined);
});

Deno.test("the reserved sys. namespace is denied so jobs cannot loop into the bus", () => {
  const policy = new SubjectPolicy();
  assertMatch(reason(policy, "sys.job.submit")!, /reserved sys\. namespace/);
  assertMatch(reason(policy, "sys.job.result")!, /reserved/);
});

Deno.test("configured deny patterns use NATS wildcards", () => {
  const policy = new SubjectPolicy({ deny: ["job.admin.>", "job.*.delete"] });
  assertOk(reason(policy, "job.admin.reset"));
  assertOk(reason(policy, "job.users.delete"));
  assertEquals(reason(policy, "job.users.list"), undefined);
  assertEquals(reason(policy, "job.admin"), undefined);
});

Deno.test("an allow list denies everything outside it; deny still wins inside it", () => {
  const policy = new SubjectPolicy({ allow: ["job.>"], deny: ["job.secret"] });
  assertEquals(reason(policy, "job.echo"), undefined);
  assertMatch(reason(policy, "other.echo")!, /matches no allowed pattern/);
  assertMatch(reason(policy, "job.secret")!, /denied/);
  assertMatch(reason(policy, "sys.destroy")!, /denied/);
});

Deno.test("the naive strategy routes a job to its topic", () => {
  assertEquals(new NaiveStrategy().route(job("job.echo")), "job.echo");
});
