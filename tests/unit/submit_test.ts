import { parseSubmitArgs } from "../../src/submit/options.ts";
import { outcomeLine, summaryLines } from "../../src/submit/output.ts";
import { assertEquals, assertOk } from "../assert.ts";

Deno.test("submit flags: a priority by name in any case or by number", async () => {
  for (const [raw, number] of [["batch", 1], ["CRITICAL", 3], ["2", 2]]) {
    const options = await parseSubmitArgs(["--priority", String(raw)]);
    assertOk(options !== "help");
    assertEquals(options.priority, number);
  }
  const defaults = await parseSubmitArgs([]);
  assertOk(defaults !== "help");
  assertEquals(defaults.priority, 0);
});

Deno.test("submit output: a result line as text and as JSON", () => {
  const outcome = {
    jobId: "job-1",
    status: "COMPLETED",
    workerId: "w",
    executionMs: 3,
    rttMs: 4.25,
    error: "",
    output: "hi",
    attempts: 1,
  } as const;
  assertEquals(
    outcomeLine(outcome, false),
    'job-1  COMPLETED  worker=w  exec=3ms  rtt=4.3ms  output="hi"',
  );
  assertEquals(
    JSON.parse(outcomeLine(outcome, true)),
    {
      job_id: "job-1",
      status: "COMPLETED",
      worker_id: "w",
      execution_ms: 3,
      rtt_ms: 4.25,
      error: "",
      output: "hi",
      attempts: 1,
    },
  );
  assertEquals(
    outcomeLine({ ...outcome, status: "FAILED", attempts: 3 }, false),
    'job-1  FAILED     worker=w  exec=3ms  rtt=4.3ms  attempts=3  output="hi"',
  );
  const summary = JSON.parse(
    summaryLines({
      count: 2,
      seconds: 1,
      counts: { COMPLETED: 1, MISSING: 1 },
      rtts: [1],
      retried: 1,
      dead: 0,
    }, true)[0],
  ).summary;
  assertEquals([summary.completed, summary.missing, summary.failed], [1, 1, 0]);
  assertEquals([summary.retried, summary.dead], [1, 0]);
  assertEquals(summary.cancelled, 0);
});

Deno.test("the summary counts CANCELLED jobs like the other statuses", () => {
  const run = {
    count: 3,
    seconds: 1,
    counts: { COMPLETED: 1, CANCELLED: 2 },
    rtts: [1, 2, 3],
    retried: 0,
    dead: 0,
  };
  const summary = JSON.parse(summaryLines(run, true)[0]).summary;
  assertEquals([summary.completed, summary.cancelled, summary.failed], [
    1,
    2,
    0,
  ]);
  const [text] = summaryLines(run, false);
  assertEquals(text.endsWith("1 COMPLETED, 2 CANCELLED"), true, text);
});
