import {
  assertEquals,
  assertMatch,
  assertOk as assert,
  assertStrictEquals,
} from "../assert.ts";
import { dashboardFixture } from "../dashboard_fixture.ts";
import { JobHistory } from "../../src/scheduler/job_history.ts";
import { type JobRecord, JobTable } from "../../src/scheduler/job_table.ts";
import { jobSummary } from "../../src/dashboard/views.ts";
import { jobRecord } from "../job_record.ts";
import { JobState } from "../../src/contract/mod.ts";
import type {
  AuditResponse,
  BulkProgress,
  BulkResponse,
  DeadLettersResponse,
} from "../../src/contract/mod.ts";
import type {
  DiscardOutcome,
  JobSubmission,
  RetryOutcome,
  SchedulerObserver,
  SchedulerService,
} from "../../src/scheduler/service.ts";
import { createDashboardApp } from "../../src/dashboard/app.ts";
import { logger } from "../../src/log.ts";
import { BulkActions } from "../../src/scheduler/bulk.ts";
import {
  deadLetters,
  discardEntry,
  groupId,
  normaliseError,
} from "../../src/scheduler/dead_letters.ts";
import { parseBulkRequest } from "../../src/dashboard/bulk_filter.ts";
import { type LedgerEntry, recordOf } from "../../src/scheduler/ledger.ts";
import { retryEntry } from "../../src/scheduler/ledger_changes.ts";

function job(
  id: string,
  at: number,
  extra: Partial<JobRecord> = {},
): JobRecord {
  return jobRecord(id, {
    state: JobState.FAILED,
    subject: "work.job.echo",
    submittedAt: at,
    finishedAt: at + 5,
    maxAttempts: 3,
    ...extra,
  });
}

const dead = (id: string, at: number, error: string, topic = "job.echo") =>
  job(id, at, {
    error,
    topic,
    deadLettered: true,
    attempts: [1, 2, 3].map((n) => ({
      attempt: n,
      workerId: `w${n}`,
      state: "FAILED" as const,
      error,
      executionMs: 1,
      at: at + n,
    })),
  });

Deno.test("errors that differ only in numbers and ids are one group", () => {
  assertEquals(
    normaliseError("Timeout after 5012 ms on  0xdeadbeef99"),
    "timeout after # ms on #",
  );
  assertEquals(
    normaliseError("job 3f2a9c1e-1234-4abc-9def-0123456789ab lost"),
    "job # lost",
  );
  assertStrictEquals(groupId("a").length, 8);
  const history = new JobHistory(jobSummary);
  history.jobChanged(dead("a", 1, "timeout after 5012 ms"));
  history.jobChanged(dead("b", 2, "timeout after 4980 ms", "job.file"));
  history.jobChanged(dead("c", 3, "disk full"));
  history.jobChanged(job("d", 4, { error: "disk full" })); // failed, not dead-lettered
  history.jobChanged(dead("e", 5, "disk full"));
  history.jobChanged(
    job("f", 6, {
      error: "disk full",
      deadLettered: true,
      discarded: { at: 7, by: "x" },
    }),
  );
  const { total, groups } = deadLetters(history, 1);
  assertStrictEquals(total, 4);
  assertEquals(groups.map((g) => [g.error, g.count]), [
    ["disk full", 2],
    ["timeout after # ms", 2],
  ]);
  const timeout = groups[1];
  assertEquals(timeout.topics, ["job.echo", "job.file"]);
  assertEquals([timeout.newestAt, timeout.oldestAt], [2, 1]);
  assertEquals(timeout.jobs.map((j) => j.jobId), ["b"]);
  assertEquals(timeout.jobs[0].attempts.map((a) => a.workerId), [
    "w1",
    "w2",
    "w3",
  ]);
});

Deno.test("discard changes only a listed dead letter, and says so in the entry", () => {
  const entry = {
    jobId: "j",
    state: "FAILED",
    deadLettered: true,
    change: "final",
  } as unknown as LedgerEntry;
  const discarded = discardEntry(entry, "dashboard", 42)!;
  assertEquals(discarded.discarded, { at: 42, by: "dashboard" });
  assertStrictEquals(discarded.change, "discarded");
  assertStrictEquals(discarded.deadLettered, true); // the counters keep it
  assertStrictEquals(discardEntry(discarded, "x", 43), undefined);
  assertStrictEquals(
    discardEntry({ ...entry, deadLettered: false }, "x", 43),
    undefined,
  );
});

Deno.test("a bulk request is checked at the edge", () => {
  const ok = parseBulkRequest({
    action: "retry",
    filter: { status: ["failed"], since: "2026-12-02T00:00:00Z", error: "x" },
    dryRun: true,
  });
  assert(typeof ok !== "string");
  assertEquals(ok.filter.status, ["FAILED"]);
  assertStrictEquals(ok.filter.since, Date.parse("2026-12-02T00:00:00Z"));
  assertMatch(
    parseBulkRequest({ action: "delete", dryRun: true }) as string,
    /action must be one of retry, cancel/,
  );
  assertMatch(
    parseBulkRequest({ action: "retry" }) as string,
    /dryRun must be/,
  );
  assertMatch(
    parseBulkRequest({
      action: "retry",
      dryRun: true,
      filter: { state: [] },
    }) as string,
    /unknown fields state/,
  );
  assertMatch(
    parseBulkRequest({
      action: "retry",
      dryRun: true,
      filter: { status: ["NOPE"] },
    }) as string,
    /"NOPE" is not one of/,
  );
  assertMatch(
    parseBulkRequest({
      action: "retry",
      dryRun: true,
      filter: { until: "soon" },
    }) as string,
    /ISO 8601/,
  );
});

Deno.test("a bulk action runs at bounded concurrency, and stops", async () => {
  const bulk = new BulkActions({ concurrency: 3, batch: 2 });
  let running = 0, most = 0;
  const gates: (() => void)[] = [];
  const ids = Array.from({ length: 20 }, (_, i) => `j${i}`);
  const started = bulk.start("retry", {}, ids, async () => {
    most = Math.max(most, ++running);
    await new Promise<void>((resolve) => gates.push(resolve));
    running--;
    return { ok: true };
  });
  for (let i = 0; i < 50 && gates.length < 3; i++) {
    await new Promise((r) => setTimeout(r, 1));
  }
  const stopping = bulk.stop(started.id);
  for (const open of gates.splice(0)) open();
  const stopped = await stopping;
  assertStrictEquals(most, 3);
  assertStrictEquals(stopped?.state, "stopped");
  assertStrictEquals(stopped?.done, 3);
  const whole = bulk.start(
    "retry",
    {},
    ids,
    (id) =>
      Promise.resolve(id === "j3" ? { ok: false, error: "no" } : { ok: true }),
  );
  await bulk.stop("nothing");
  for (let i = 0; i < 100 && bulk.get(whole.id)!.state === "running"; i++) {
    await new Promise((r) => setTimeout(r, 1));
  }
  const end = bulk.get(whole.id)!;
  assertEquals([end.state, end.succeeded, end.failed], ["finished", 19, 1]);
  assertEquals(end.errors, [{ jobId: "j3", error: "no" }]);
});

Deno.test("the bulk and dead-letter routes: dry run, start, progress, stop, discard, audit, rules", async () => {
  using f = dashboardFixture({ token: "tok" });
  const history = new JobHistory(jobSummary);
  for (let i = 0; i < 30; i++) {
    history.jobChanged(dead(`d${i}`, 100 + i, `boom ${i}`));
  }
  for (let i = 0; i < 5; i++) {
    history.jobChanged(job(`ok${i}`, 200 + i, { state: "COMPLETED" }));
  }
  const retried: string[] = [];
  const discarded: string[] = [];
  // Only what these routes use (a scheduler may offer more, e.g. cancel).
  const scheduler = {
    get counters() {
      return f.scheduler.counters;
    },
    jobs: f.scheduler.jobs,
    workers: f.scheduler.workers,
    submit: (j: JobSubmission) => f.scheduler.submit(j),
    observe: (o: SchedulerObserver) => f.scheduler.observe(o),
    durable: {
      stats: () => ({
        pools: [],
        retries: 0,
        deadLettered: 0,
        duplicateDeliveries: 0,
      }),
      retry: (jobId: string): Promise<RetryOutcome> => {
        retried.push(jobId);
        return Promise.resolve({
          status: "retried",
          jobId,
          subject: "s",
          firstAttempt: 4,
          maxAttempts: 6,
        });
      },
      discard: (jobId: string): Promise<DiscardOutcome> => {
        discarded.push(jobId);
        return Promise.resolve({ status: "discarded", jobId });
      },
    },
  } as unknown as SchedulerService;
  const bulk = new BulkActions({ concurrency: 2, batch: 4 });
  const app = createDashboardApp({
    scheduler,
    history,
    bulk,
    bus: { connected: true, undecodable: 0 },
    hub: f.hub,
    metrics: f.metrics,
    log: logger("test"),
    token: "tok",
  });
  const auth = { authorization: "Bearer tok" };
  const post = (
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ) =>
    app.request(path, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const filter = { status: ["FAILED"], error: "boom 1" }; // boom 1, boom 10..19
  // The rules of every write.
  assertStrictEquals(
    (await app.request("/api/jobs/bulk", { method: "POST", body: "{}" }))
      .status,
    401,
  );
  assertStrictEquals(
    (await post("/api/jobs/bulk", { action: "retry", filter, dryRun: true }, {
      "content-type": "text/plain",
    })).status,
    415,
  );
  assertStrictEquals(
    (await post("/api/jobs/bulk", { action: "retry", filter, dryRun: true }, {
      origin: "http://evil.example",
    })).status,
    403,
  );
  assertStrictEquals(
    (await post("/api/jobs/bulk", { action: "cancel", filter, dryRun: true }))
      .status,
    501,
  );
  const dry = await post("/api/jobs/bulk", {
    action: "retry",
    filter,
    dryRun: true,
  });
  const dryBody = await dry.json() as BulkResponse;
  assertEquals([dry.status, dryBody.matched, dryBody.bulk], [
    200,
    11,
    undefined,
  ]);
  assertEquals(retried, []);
  const res = await post("/api/jobs/bulk", {
    action: "retry",
    filter,
    dryRun: false,
  });
  const started = await res.json() as BulkResponse;
  assertStrictEquals(started.matched, 11);
  for (let i = 0; i < 100; i++) {
    const p = await (await app.request(started.bulk!.href, { headers: auth }))
      .json() as BulkProgress;
    if (p.state !== "running") break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const end = await (await app.request(started.bulk!.href, { headers: auth }))
    .json() as BulkProgress;
  assertEquals([end.state, end.succeeded], ["finished", 11]);
  assertEquals(
    retried.toSorted(),
    ["d1", ...Array.from({ length: 10 }, (_, i) => `d1${i}`)].toSorted(),
  );
  const stop = await post(`${started.bulk!.href}/stop`, {});
  assertStrictEquals(stop.status, 200);
  assertStrictEquals((await post("/api/bulk/nope/stop", {})).status, 404);

  // Dead letters: grouped (every "boom #" is one group), a group discarded.
  const list =
    await (await app.request("/api/dead-letters?perGroup=2", { headers: auth }))
      .json() as DeadLettersResponse;
  assertEquals([list.total, list.groups.length, list.groups[0].jobs.length], [
    30,
    1,
    2,
  ]);
  const group = list.groups[0];
  assertStrictEquals(
    (await post(`/api/dead-letters/${group.id}/discard`, {}, {
      "content-type": "text/plain",
    })).status,
    415,
  );
  const gone = await (await post(`/api/dead-letters/${group.id}/discard`, {}))
    .json() as BulkResponse;
  assertStrictEquals(gone.matched, 30);
  assertStrictEquals(
    (await post("/api/dead-letters/ffffffff/retry", {})).status,
    404,
  );
  const one = await post("/api/jobs/d0/discard", {});
  assertStrictEquals(one.status, 200);
  await bulk.close();

  const audit = await (await app.request("/api/audit", { headers: auth }))
    .json() as AuditResponse;
  const actions = audit.entries.map((e) => e.action);
  for (
    const a of [
      "bulk retry dry run",
      "bulk retry",
      "bulk retry finished",
      "bulk stop",
      "dead letters discard",
      "discard",
    ]
  ) assert(actions.includes(a), `audit has ${a}: ${actions.join(", ")}`);
  const dryEntry = audit.entries.find((e) =>
    e.action === "bulk retry dry run"
  )!;
  assertEquals(dryEntry.filter, filter);
  assertMatch(dryEntry.outcome, /11 jobs match/);
  const finished = audit.entries.find((e) =>
    e.action === "bulk retry finished"
  )!;
  assertStrictEquals(finished.count, 11);
});

Deno.test("a retry by hand clears a discard, also in the job table's record", () => {
  const entry = {
    v: 1,
    jobId: "j",
    traceId: "t",
    topic: "job.echo",
    priority: 0,
    submitter: "s",
    contextPtr: "",
    adapterId: "",
    envVars: {},
    payloadBytes: 0,
    payloadPreview: "",
    state: "FAILED",
    subject: "cortex.work.job.echo",
    maxAttempts: 1,
    attempts: [],
    workerId: "w",
    executionMs: 1,
    resultPtr: "",
    outputBytes: 0,
    output: "",
    error: "boom",
    deadLettered: true,
    duplicates: 0,
    submitSeq: 1,
    change: "final",
    submittedAt: 1,
    dispatchedAt: 2,
    finishedAt: 3,
    deadline: 100,
  } as LedgerEntry;
  const table = new JobTable({ capacity: 10 });
  const discarded = discardEntry(entry, "dashboard", 4)!;
  const record = table.upsert(recordOf(discarded))!;
  assertEquals(record.discarded, { at: 4, by: "dashboard" });
  const retried = retryEntry(discarded, {
    by: "dashboard",
    now: 5,
    subject: "cortex.work.job.echo",
    deadline: 500,
  })!;
  const decoded = JSON.parse(JSON.stringify(retried)) as LedgerEntry;
  assertStrictEquals(decoded.discarded, undefined);
  table.upsert(recordOf(decoded));
  assertStrictEquals(table.get("j")!.discarded, undefined);
  assertStrictEquals(jobSummary(table.get("j")!).discarded, undefined);
});

Deno.test("bulk cancel calls the scheduler's cancel when it has one (and 501 when not)", async () => {
  using f = dashboardFixture();
  const history = new JobHistory(jobSummary);
  for (let i = 0; i < 4; i++) {
    history.jobChanged(job(`p${i}`, 10 + i, { state: "DISPATCHED" }));
  }
  const cancelled: string[] = [];
  const scheduler = {
    get counters() {
      return f.scheduler.counters;
    },
    jobs: f.scheduler.jobs,
    workers: f.scheduler.workers,
    submit: f.scheduler.submit.bind(f.scheduler),
    observe: f.scheduler.observe.bind(f.scheduler),
    cancel: (jobId: string) => {
      cancelled.push(jobId);
      return Promise.resolve(
        jobId === "p0"
          ? { status: "conflict", id: jobId, reason: "p0 is final" }
          : { status: "ok", id: jobId, detail: "cancelled" },
      );
    },
  } as unknown as SchedulerService;
  const bulk = new BulkActions();
  const app = createDashboardApp({
    scheduler,
    history,
    bulk,
    bus: { connected: true, undecodable: 0 },
    hub: f.hub,
    metrics: f.metrics,
    log: logger("test"),
  });
  const res = await app.request("/api/jobs/bulk", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      action: "cancel",
      filter: { status: ["DISPATCHED"] },
      dryRun: false,
    }),
  });
  const started = await res.json() as BulkResponse;
  assertEquals([res.status, started.matched], [200, 4]);
  for (
    let i = 0;
    i < 100 && bulk.get(started.bulk!.id)!.state === "running";
    i++
  ) {
    await new Promise((r) => setTimeout(r, 1));
  }
  const end = bulk.get(started.bulk!.id)!;
  assertEquals([end.succeeded, end.failed], [3, 1]);
  assertEquals(end.errors, [{ jobId: "p0", error: "p0 is final" }]);
  assertEquals(cancelled.toSorted(), ["p0", "p1", "p2", "p3"]);
});
