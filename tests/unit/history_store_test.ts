/**
 * The history's store on its own, in memory (no NATS, no files: see
 * tests/integration/history_files_test.ts for those): its search rules
 * and a write that fails.
 */
import { assertEquals, assertStrictEquals } from "../assert.ts";
import {
  type HistoryRow,
  HistoryStore,
  INSERT_ROWS,
} from "../../src/scheduler/history_store.ts";
import { historyWhere } from "../../src/scheduler/history_query.ts";
import { JobHistory } from "../../src/scheduler/job_history.ts";
import { jobSummary } from "../../src/dashboard/views.ts";
import { jobRecord } from "../job_record.ts";

function row(
  jobId: string,
  at: number,
  extra: Partial<HistoryRow["summary"] & HistoryRow["text"]> = {},
): HistoryRow {
  return {
    summary: {
      jobId,
      topic: extra.topic ?? "job.echo",
      state: extra.state ?? "COMPLETED",
      priority: "unspecified",
      workerId: extra.workerId ?? "w1",
      executionMs: 1,
      roundTripMs: null,
      submittedAt: at,
      finishedAt: at + 1,
      error: extra.error ?? "",
      ...(extra.deadLettered ? { deadLettered: true as const } : {}),
      ...(extra.discarded ? { discarded: true as const } : {}),
    },
    text: {
      payload: extra.payload ?? "",
      output: extra.output ?? "",
      workers: extra.workers ?? null,
      errors: extra.errors ?? null,
    },
  };
}

const ids = (jobs: { jobId: string }[]) => jobs.map((j) => j.jobId);

Deno.test("history store: filters as the API means them (any case, literal wildcards, the workers of every attempt)", () => {
  const store = new HistoryStore();
  store.write([
    row("inv-1", 100, { payload: "Invoice 50% PAID", output: "Été" }),
    row("Inv-2", 200, {
      state: "FAILED",
      error: "Disk FULL at /var",
      workerId: "w2",
      workers: ["w1", "w2"],
      errors: [
        { jobId: "Inv-2", workerId: "w1", state: "FAILED", error: "a", at: 1 },
        { jobId: "Inv-2", workerId: "w2", state: "FAILED", error: "b", at: 2 },
      ],
      deadLettered: true,
    }),
    row("x_3", 300, {
      payload: "x".repeat(256),
      deadLettered: true,
      discarded: true,
    }),
  ]);
  const find = (q: Parameters<HistoryStore["search"]>[0]) =>
    ids(store.search(q, 10));
  assertEquals(find({ idPrefix: "inv-" }), ["inv-1"]); // case-sensitive
  assertEquals(find({ idContains: "INV" }), ["Inv-2", "inv-1"]);
  assertEquals(find({ idContains: "_" }), ["x_3"]); // not a wildcard
  assertEquals(find({ text: "50%" }), ["inv-1"]);
  assertEquals(find({ text: "0%" }), ["inv-1"]);
  assertEquals(find({ text: "%" }), ["inv-1"]);
  assertEquals(find({ text: "éTÉ" }), ["inv-1"]); // beyond ASCII, any case
  assertEquals(find({ text: "disk full" }), ["Inv-2"]);
  assertEquals(find({ text: "x".repeat(257) }), []);
  assertEquals(find({ text: "x".repeat(256) }), ["x_3"]);
  assertEquals(find({ error: "/VAR" }), ["Inv-2"]);
  assertEquals(find({ worker: "w1" }), ["x_3", "Inv-2", "inv-1"]);
  assertEquals(find({ worker: "w2" }), ["Inv-2"]);
  assertEquals(find({ deadLettered: true }), ["Inv-2"]);
  assertEquals(find({ deadLettered: false }), ["x_3", "inv-1"]);
  assertEquals(find({ states: new Set(["FAILED", "TIMEOUT"]) }), ["Inv-2"]);
  assertEquals(find({ since: 200, until: 300 }), ["Inv-2"]);
  assertEquals(ids(store.search({}, 10, [300, "x_3"])), ["Inv-2", "inv-1"]);
  assertEquals(store.errorsAt("w2", 10).map((e) => e.error), ["b"]);
  // A list cut short by its limit leaves the statement ready for the next.
  assertEquals(store.errorsAt("w1", 1).map((e) => e.error), ["a"]);
  assertEquals(store.errorsAt("w1", 1).map((e) => e.error), ["a"]);
  assertEquals(store.attemptErrors("Inv-2").map((e) => e.workerId), [
    "w1",
    "w2",
  ]);
  assertEquals(store.get("Inv-2")?.deadLettered, true);
  assertStrictEquals(store.get("inv-1")?.deadLettered, undefined);
  // Moved (submitted again later): one row, in its new place.
  store.write([row("inv-1", 400)]);
  assertEquals(find({}), ["inv-1", "x_3", "Inv-2"]);
  assertStrictEquals(store.size, 3);
  store.dropOldest(2);
  assertEquals(find({}), ["inv-1"]);
  assertStrictEquals(store.size, 1);
  store.close();
  assertEquals(store.search({}, 10), []);
  assertEquals(historyWhere({}), { sql: "1", params: [] });
});

Deno.test("history store: new jobs inserted many at a time, with a job written twice in one batch and a job rewritten, each held once as last written", () => {
  const store = new HistoryStore();
  const count = INSERT_ROWS * 2 + 5;
  const first = Array.from({ length: count }, (_, i) => row(`job-${i}`, i));
  // job-3 again in the same batch, moved to a later time (submitted
  // again) while its first row still waits for its statement.
  const batch = [
    ...first.slice(0, 10),
    row("job-3", 1_000, { state: "FAILED", error: "again" }),
    ...first.slice(10),
  ];
  store.write(batch);
  assertEquals(store.size, count);
  assertEquals(store.get("job-3")?.submittedAt, 1_000);
  assertEquals(store.get("job-3")?.error, "again");
  assertEquals(store.get("job-0")?.state, "COMPLETED");
  assertEquals(store.get(`job-${count - 1}`)?.submittedAt, count - 1);
  // A later batch rewrites one held job and inserts one new.
  store.write([row("job-7", 7, { state: "FAILED" }), row("job-new", 5_000)]);
  assertEquals(store.size, count + 1);
  assertEquals(store.get("job-7")?.state, "FAILED");
  const all = ids(store.search({}, count + 10));
  assertEquals(all.length, count + 1);
  assertEquals(new Set(all).size, count + 1);
  assertEquals(all.slice(0, 2), ["job-new", "job-3"]);
});

Deno.test("history: a write that fails is reported and the scheduler's call goes on", () => {
  class Failing extends HistoryStore {
    override write(): void {
      throw new Error("database or disk is full");
    }
  }
  const failures: string[] = [];
  const history = new JobHistory(jobSummary, {
    store: new Failing(),
    onError: (e) => failures.push(e.message),
  });
  history.jobChanged(jobRecord("a", { submittedAt: 1 }));
  assertStrictEquals(history.size, 0);
  assertEquals(failures, ["database or disk is full"]);
  history.close();
  history.jobChanged(jobRecord("b", { submittedAt: 2 })); // closed: ignored
  assertStrictEquals(history.size, 0);
});
