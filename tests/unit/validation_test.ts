import { create } from "@bufbuild/protobuf";
import {
  type JobPriority,
  JobRequestSchema,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { validateJob } from "../../src/scheduler/validation.ts";
import { assertEquals, assertMatch } from "../assert.ts";

const limits = { maxPayloadBytes: 16 };
const job = (fields: Parameters<typeof create<typeof JobRequestSchema>>[1]) =>
  create(JobRequestSchema, fields);

Deno.test("a job with id, topic and a small payload is valid", () => {
  assertEquals(
    validateJob(
      job({ jobId: "j1", topic: "job.echo", payload: new Uint8Array(16) }),
      limits,
    ),
    undefined,
  );
});

Deno.test("job_id and topic are required", () => {
  assertEquals(
    validateJob(job({ topic: "job.echo" }), limits),
    "job_id is required",
  );
  assertEquals(
    validateJob(job({ jobId: "  ", topic: "job.echo" }), limits),
    "job_id is required",
  );
  assertEquals(validateJob(job({ jobId: "j1" }), limits), "topic is required");
});

Deno.test("the topic must be a NATS subject without wildcards", () => {
  assertMatch(
    validateJob(job({ jobId: "j", topic: "job.*" }), limits)!,
    /wildcard/,
  );
  assertMatch(
    validateJob(job({ jobId: "j", topic: "job..x" }), limits)!,
    /empty token/,
  );
  assertMatch(
    validateJob(job({ jobId: "j", topic: "job x" }), limits)!,
    /white space/,
  );
});

Deno.test("a payload over the limit is refused, naming the limit and its setting", () => {
  const problem = validateJob(
    job({ jobId: "j", topic: "job.echo", payload: new Uint8Array(17) }),
    limits,
  );
  assertMatch(
    problem!,
    /17 bytes; the limit is 16 \(CORTEX_MAX_PAYLOAD_BYTES\)/,
  );
});

Deno.test("an unknown priority number is refused", () => {
  assertMatch(
    validateJob(
      job({ jobId: "j", topic: "job.echo", priority: 9 as JobPriority }),
      limits,
    )!,
    /priority 9/,
  );
});
