import { assertEquals, assertMatch, assertStrictEquals } from "../assert.ts";
import { dashboardFixture } from "../dashboard_fixture.ts";
import {
  decodeCursor,
  HISTORY_MARKED,
  JobHistory,
} from "../../src/scheduler/job_history.ts";
import { HistoryStore } from "../../src/scheduler/history_store.ts";
import { JobState } from "../../src/contract/mod.ts";
import type { JobRecord } from "../../src/scheduler/job_table.ts";
import { jobRecord } from "../job_record.ts";
import { jobSummary } from "../../src/dashboard/views.ts";
import type {
  JobDetail,
  JobsResponse,
  WorkerDetail,
} from "../../src/contract/mod.ts";
import type { SchedulerService } from "../../src/scheduler/service.ts";
import { createDashboardApp } from "../../src/dashboard/app.ts";
import { logger } from "../../src/log.ts";

function job(
  id: string,
  at: number,
  extra: Partial<JobRecord> = {},
): JobRecord {
  return jobRecord(id, {
    payloadPreview: `payload of ${id}`,
    submittedAt: at,
    finishedAt: at + 5,
    ...extra,
  });
}

function ids(page: { jobs: { jobId: string }[] }): string[] {
  return page.jobs.map((j) => j.jobId);
}

Deno.test("history pages newest first with a cursor through every job, in order even when they came out of order", () => {
  const history = new JobHistory(jobSummary);
  // Out of order, as a ledger read at start delivers them.
  for (const i of [5, 1, 9, 3, 7, 0, 2, 8, 4, 6]) {
    history.jobChanged(job(`j${i}`, 1000 + i));
  }
  const first = history.search({}, 4);
  assertEquals(ids(first), ["j9", "j8", "j7", "j6"]);
  const second = history.search({}, 4, decodeCursor(first.nextCursor!));
  assertEquals(ids(second), ["j5", "j4", "j3", "j2"]);
  const third = history.search({}, 4, decodeCursor(second.nextCursor!));
  assertEquals(ids(third), ["j1", "j0"]);
  assertStrictEquals(third.nextCursor, null);
  // A late job just behind the newest goes into its place.
  history.jobChanged(job("late", 1008));
  assertEquals(ids(history.search({}, 3)), ["j9", "late", "j8"]);
  assertStrictEquals(decodeCursor("not a cursor"), undefined);
});

Deno.test("history filters by id prefix, topic, state, worker, time and text", () => {
  const history = new JobHistory(jobSummary);
  history.jobChanged(job("inv-1", 100, { outputPreview: "Invoice PAID" }));
  history.jobChanged(
    job("inv-2", 200, {
      state: "FAILED",
      error: "disk full",
      workerId: "w2",
      attempts: [
        {
          attempt: 1,
          workerId: "w1",
          state: "FAILED",
          error: "timeout at w1",
          executionMs: 1,
          at: 150,
        },
        {
          attempt: 2,
          workerId: "w2",
          state: "FAILED",
          error: "disk full",
          executionMs: 1,
          at: 199,
        },
      ],
    }),
  );
  history.jobChanged(
    job("other-3", 300, {
      topic: "job.resize",
      subject: "job.resize",
      workerId: "w3",
    }),
  );
  assertEquals(ids(history.search({ idPrefix: "inv-" }, 10)), [
    "inv-2",
    "inv-1",
  ]);
  assertEquals(ids(history.search({ topic: "job.resize" }, 10)), ["other-3"]);
  assertEquals(ids(history.search({ states: new Set(["FAILED"]) }, 10)), [
    "inv-2",
  ]);
  assertEquals(ids(history.search({ worker: "w1" }, 10)), ["inv-2", "inv-1"]);
  assertEquals(ids(history.search({ worker: "w2" }, 10)), ["inv-2"]);
  assertEquals(ids(history.search({ since: 150, until: 300 }, 10)), ["inv-2"]);
  assertEquals(ids(history.search({ text: "paid" }, 10)), ["inv-1"]);
  assertEquals(ids(history.search({ text: "DISK" }, 10)), ["inv-2"]);
  assertEquals(ids(history.search({ text: "payload of other" }, 10)), [
    "other-3",
  ]);
  assertEquals(
    history.errorsOf("w1", 10).map((e) => [e.jobId, e.error]),
    [["inv-2", "timeout at w1"]],
  );
  // A change replaces the job's entry.
  history.jobChanged(job("inv-1", 100, { state: "FAILED", error: "later" }));
  assertEquals(ids(history.search({ text: "later" }, 10)), ["inv-1"]);
  assertStrictEquals(history.size, 3);
});

Deno.test("history holds at most its capacity, dropping the earliest submitted", () => {
  const history = new JobHistory(jobSummary, { capacity: 100 });
  for (let i = 0; i < 1000; i++) history.jobChanged(job(`j${i}`, i));
  assertStrictEquals(history.size, 100);
  const all = history.search({}, 1000);
  assertStrictEquals(all.jobs.length, 100);
  assertStrictEquals(all.jobs[99].jobId, "j900");
});

Deno.test("GET /api/jobs searches payload text and pages with a cursor; a bad cursor or time is a 400", async () => {
  using f = dashboardFixture();
  for (let i = 0; i < 5; i++) {
    f.submit(`s-${i}`, i === 2 ? "find the needle" : "hay");
  }
  await f.settle();
  const res = await f.app.request("/api/jobs?text=NEEDLE");
  assertStrictEquals(res.status, 200);
  const found = await res.json() as JobsResponse;
  assertEquals(ids(found), ["s-2"]);
  assertStrictEquals(found.history, 5);
  const page1 = await (await f.app.request("/api/jobs?limit=3"))
    .json() as JobsResponse;
  assertStrictEquals(page1.jobs.length, 3);
  const page2 = await (await f.app.request(
    `/api/jobs?limit=3&cursor=${page1.nextCursor}`,
  )).json() as JobsResponse;
  assertStrictEquals(page2.jobs.length, 2);
  assertStrictEquals(page2.nextCursor, null);
  assertStrictEquals((await f.app.request("/api/jobs?cursor=zzz")).status, 400);
  assertStrictEquals(
    (await f.app.request("/api/jobs?since=yesterday")).status,
    400,
  );
  assertStrictEquals(
    (await f.app.request("/api/jobs?since=2000-01-01T00:00:00Z&idPrefix=s-"))
      .status,
    200,
  );
});

Deno.test("GET /api/workers/:id lists the jobs a worker ran; an unknown worker is a 404", async () => {
  using f = dashboardFixture();
  f.heartbeat("echo-test");
  f.submit("w-1");
  f.submit("w-2");
  await f.settle();
  const res = await f.app.request("/api/workers/echo-test");
  assertStrictEquals(res.status, 200);
  const detail = await res.json() as WorkerDetail;
  assertEquals(ids(detail), ["w-2", "w-1"]);
  assertStrictEquals(detail.worker?.workerId, "echo-test");
  assertEquals(detail.errors, []);
  const missing = await f.app.request("/api/workers/nobody");
  assertStrictEquals(missing.status, 404);
  assertStrictEquals(typeof (await missing.json()).error, "string");
});

Deno.test("with a token, the search, queues and worker routes need it", async () => {
  using f = dashboardFixture({ token: "s3cret-s3cret-s3cret" });
  for (
    const path of ["/api/jobs?text=x", "/api/queues", "/api/workers/echo-test"]
  ) {
    assertStrictEquals((await f.app.request(path)).status, 401, path);
    const ok = await f.app.request(path, {
      headers: { authorization: "Bearer s3cret-s3cret-s3cret" },
    });
    assertStrictEquals(ok.status === 401, false, path);
    await ok.body?.cancel();
  }
  // Another Host is refused before anything, token or not.
  const rebound = await f.app.request("http://evil.example/api/queues", {
    headers: { authorization: "Bearer s3cret-s3cret-s3cret" },
  });
  assertStrictEquals(rebound.status, 421);
});

Deno.test("GET /api/jobs/:id reads the ledger (durable mode) for a job the table no longer holds; 503 when it cannot", async () => {
  using f = dashboardFixture();
  const scheduler: SchedulerService = {
    get counters() {
      return f.scheduler.counters;
    },
    jobs: f.scheduler.jobs,
    workers: f.scheduler.workers,
    submit: (j) => f.scheduler.submit(j),
    observe: (o) => f.scheduler.observe(o),
    cancel: (id, by) => f.scheduler.cancel(id, by),
    drain: (id, o) => f.scheduler.drain(id, o),
    durable: {
      stats: () => ({
        pools: [],
        retries: 0,
        deadLettered: 0,
        duplicateDeliveries: 0,
      }),
      retry: () => Promise.reject(new Error("unused")),
      lookup: (id) =>
        id === "boom"
          ? Promise.reject(new Error("no ledger"))
          : Promise.resolve(id === "old" ? job("old", 5) : undefined),
    },
  };
  const app = createDashboardApp({
    scheduler,
    bus: { connected: true, undecodable: 0 },
    hub: f.hub,
    metrics: f.metrics,
    log: logger("test"),
  });
  const old = await app.request("/api/jobs/old");
  assertStrictEquals(old.status, 200);
  assertStrictEquals((await old.json() as JobDetail).jobId, "old");
  const missing = await app.request("/api/jobs/never");
  assertStrictEquals(missing.status, 404);
  assertMatch((await missing.json()).error, /no job "never" in the ledger/);
  assertStrictEquals((await app.request("/api/jobs/boom")).status, 503);
});

Deno.test("history reuses the slots of dropped jobs without mixing them up: every row held is its job's latest summary", () => {
  const history = new JobHistory(jobSummary, { capacity: 50 });
  const latest = new Map<string, JobRecord>();
  for (let i = 0; i < 500; i++) {
    const failed = i % 7 === 0;
    const record = job(`j${i}`, i, {
      state: failed ? "FAILED" : "COMPLETED",
      error: failed ? `boom ${i}` : "",
      workerId: `w${i % 3}`,
      payloadPreview: `payload ${i}`,
      deadLettered: i % 11 === 0,
    });
    history.jobChanged(record);
    latest.set(record.jobId, record);
    // Some jobs change again later, some move (submitted again, later).
    if (i % 5 === 0 && i >= 10) {
      const again = job(`j${i - 10}`, i - 10, { state: "TIMEOUT" });
      history.jobChanged(again);
      latest.set(again.jobId, again);
    }
    if (i % 13 === 0 && i >= 20) {
      const moved = job(`j${i - 20}`, i + 0.5, { workerId: "w9" });
      history.jobChanged(moved);
      latest.set(moved.jobId, moved);
    }
  }
  const all = history.search({}, 1000);
  assertStrictEquals(all.jobs.length, 50);
  for (const row of all.jobs) {
    assertEquals(row, jobSummary(latest.get(row.jobId)!));
  }
  assertEquals(ids(history.search({ text: "boom 497" }, 10)), ["j497"]);
  assertEquals(ids(history.search({ text: "payload 455" }, 10)), []);
  for (const e of history.errorsOf("w2", 10)) {
    assertStrictEquals(e.workerId, "w2");
    assertStrictEquals(latest.get(e.jobId)!.state, "FAILED");
  }
});

Deno.test("history: a full batch writes the jobs that ended and keeps those in flight marked, written once they end; a search still sees them; half a batch in flight is written", () => {
  const store = new HistoryStore();
  const history = new JobHistory(jobSummary, { store });
  const running = Array.from(
    { length: 10 },
    (_, i) =>
      job(`run-${i}`, i, { state: JobState.DISPATCHED, finishedAt: undefined }),
  );
  for (const record of running) history.jobChanged(record);
  for (let i = 0; i < HISTORY_MARKED - running.length; i++) {
    history.jobChanged(job(`done-${i}`, 100 + i));
  }
  // The batch was written without the jobs in flight.
  assertEquals(store.size, HISTORY_MARKED - running.length);
  assertEquals(store.get("run-0"), undefined);
  // A search writes them first, as they are now.
  assertEquals(history.get("run-0")?.state, JobState.DISPATCHED);
  assertEquals(store.size, HISTORY_MARKED);
  // Ended, they are written again with their end.
  running[0].state = JobState.COMPLETED;
  running[0].finishedAt = 50;
  history.jobChanged(running[0]);
  assertEquals(history.get("run-0")?.state, JobState.COMPLETED);

  // Half a batch or more in flight: the whole batch is written, so no
  // more than a batch ever waits.
  const store2 = new HistoryStore();
  const history2 = new JobHistory(jobSummary, { store: store2 });
  for (let i = 0; i < HISTORY_MARKED; i++) {
    const inFlight = i % 2 === 0;
    history2.jobChanged(
      job(
        `j-${i}`,
        i,
        inFlight ? { state: JobState.DISPATCHED, finishedAt: undefined } : {},
      ),
    );
  }
  assertEquals(store2.size, HISTORY_MARKED);
});
