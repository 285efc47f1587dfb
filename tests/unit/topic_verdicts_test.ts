import { create } from "@bufbuild/protobuf";
import { JobRequestSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import { SubjectPolicy } from "../../src/scheduler/safety.ts";
import { validateJob } from "../../src/scheduler/validation.ts";
import { assertOk } from "../assert.ts";

const job = (topic: string, jobId = "j") =>
  create(JobRequestSchema, { jobId, topic });
const limits = { maxPayloadBytes: 1024 };

Deno.test("remembered topic verdicts answer as a fresh check would", () => {
  const policy = new SubjectPolicy({ deny: ["job.admin.>"] });
  for (let round = 0; round < 3; round++) {
    assertOk(policy.check(job("job.echo")).allowed);
    assertOk(!policy.check(job("job.admin.reset")).allowed);
    assertOk(!policy.check(job("sys.destroy")).allowed);
    assertOk(validateJob(job("job.echo"), limits) === undefined);
    assertOk(validateJob(job("job..echo"), limits)?.includes("empty token"));
    assertOk(validateJob(job("job.echo", ""), limits) === "job_id is required");
  }
  // More topics than are remembered: still right after the cache is cleared.
  for (let i = 0; i < 3_000; i++) {
    assertOk(policy.check(job(`job.t${i}`)).allowed);
    assertOk(validateJob(job(`job.t${i}`), limits) === undefined);
  }
  assertOk(!policy.check(job("job.admin.x")).allowed);
});
