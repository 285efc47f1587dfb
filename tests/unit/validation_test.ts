import { create } from "@bufbuild/protobuf";
import {
  type JobPriority,
  JobRequestSchema,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import {
  sizeOver,
  utf8Length,
  validateJob,
  validateSender,
} from "../../src/scheduler/validation.ts";
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

Deno.test("sizeOver counts only what may be over the limit, as utf8Length does", () => {
  for (
    const text of [
      "",
      "job-1",
      "x".repeat(256),
      "x".repeat(257),
      "é".repeat(85),
      "é".repeat(86),
      "é".repeat(128),
      "é".repeat(129),
      "😀".repeat(64),
      "😀".repeat(65),
      "€".repeat(85),
      "€".repeat(86),
      "\ud800".repeat(90),
    ]
  ) {
    const bytes = utf8Length(text);
    assertEquals(sizeOver(text, 256), bytes > 256 ? bytes : 0, text);
  }
});

Deno.test("validateSender names the packet id over its limit", () => {
  assertEquals(
    validateSender({ traceId: "t".repeat(32), submitter: "s" }),
    undefined,
  );
  assertEquals(
    validateSender({ traceId: "é".repeat(129), submitter: "s" }),
    "the packet's trace_id is 258 bytes; the limit is 256",
  );
  assertEquals(
    validateSender({ traceId: "t", submitter: "s".repeat(257) }),
    "the packet's sender_id is 257 bytes; the limit is 256",
  );
});
