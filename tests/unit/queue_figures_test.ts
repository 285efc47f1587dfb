import { assertEquals, assertOk, assertStrictEquals } from "../assert.ts";
import { dashboardFixture } from "../dashboard_fixture.ts";
import {
  BUCKET_MS,
  BUCKETS,
  COUNTED_REMEMBERED,
  QueueFigures,
} from "../../src/scheduler/queue_figures.ts";
import {
  addDuration,
  binOf,
  HISTOGRAM_BINS,
  quantile,
} from "../../src/scheduler/duration_histogram.ts";
import type { JobRecord } from "../../src/scheduler/job_table.ts";
import { jobRecord } from "../job_record.ts";
import { JobState } from "../../src/contract/mod.ts";
import type { WorkerView } from "../../src/scheduler/registry.ts";
import type { QueuesView, SnapshotEvent } from "../../src/contract/mod.ts";
import { SseReader } from "../sse.ts";

function job(id: string, extra: Partial<JobRecord> = {}): JobRecord {
  return jobRecord(id, {
    state: JobState.DISPATCHED,
    workerId: "",
    executionMs: 0,
    ...extra,
  });
}

function worker(id: string, activeJobs: number): WorkerView {
  return {
    workerId: id,
    pool: "echo",
    region: "",
    type: "",
    capabilities: [],
    activeJobs,
    maxParallelJobs: 4,
    cpuLoad: 0,
    gpuUtilization: 0,
    state: "online",
    firstSeen: 0,
    lastSeen: 0,
    left: false,
  };
}

Deno.test("the histogram's quantiles are within a quarter of the value", () => {
  const counts = new Uint32Array(HISTOGRAM_BINS);
  for (let ms = 1; ms <= 1000; ms++) addDuration(counts, ms);
  const p50 = quantile([counts], 0.5)!;
  const p95 = quantile([counts], 0.95)!;
  assertOk(p50 >= 375 && p50 <= 625, `p50 ${p50}`);
  assertOk(p95 >= 712 && p95 <= 1188, `p95 ${p95}`);
  assertStrictEquals(quantile([new Uint32Array(HISTOGRAM_BINS)], 0.5), null);
});

Deno.test("a duration's bin, looked up or computed, is the log-scale bin", () => {
  // The bins as the histogram first computed them, for every duration.
  const byLog = (ms: number) =>
    ms > 1
      ? Math.min(Math.ceil(Math.log(ms) / Math.log(1.5)), HISTOGRAM_BINS - 1)
      : 0;
  for (let ms = -3; ms <= 20_000; ms++) {
    assertStrictEquals(binOf(ms), byLog(ms), `${ms} ms`);
  }
  for (
    const ms of [0.5, 1.5, 4095.5, 4096, 2 ** 32, 2 ** 32 + 1, 1e20, -0]
  ) {
    assertStrictEquals(binOf(ms), byLog(ms), `${ms} ms`);
  }
  assertStrictEquals(binOf(NaN), 0);
  assertStrictEquals(binOf(Infinity), HISTOGRAM_BINS - 1);
});

Deno.test("a final state seen again is counted once; a new end, or one forgotten, again", () => {
  let now = 1_000_000;
  const figures = new QueueFigures({ clock: () => now });
  const done = () => figures.view([]).panels[0].doneLastMinute;
  const a = job("a", { state: "COMPLETED", finishedAt: now, workerId: "w" });
  figures.jobChanged(a);
  figures.jobChanged(a);
  figures.jobChanged({ ...a }); // the same end, another record of it
  assertStrictEquals(done(), 1);
  now += 1000;
  figures.jobChanged({ ...a, state: "DISPATCHED", finishedAt: undefined });
  figures.jobChanged({ ...a, finishedAt: now }); // retried, ended again
  assertStrictEquals(done(), 2);
  // Once COUNTED_REMEMBERED other jobs were counted, "a" is forgotten.
  for (let i = 0; i < COUNTED_REMEMBERED; i++) {
    figures.jobChanged(job(`b-${i}`, { state: "FAILED", finishedAt: now }));
  }
  assertStrictEquals(done(), 2 + COUNTED_REMEMBERED);
  figures.jobChanged({ ...a, finishedAt: now });
  assertStrictEquals(done(), 3 + COUNTED_REMEMBERED);
});

Deno.test("a topic forgotten and seen again starts afresh", () => {
  let now = 1_000_000;
  const figures = new QueueFigures({ clock: () => now, maxTopics: 1 });
  const on = (topic: string, id: string, extra: Partial<JobRecord> = {}) =>
    job(id, { topic, subject: topic, ...extra });
  figures.jobChanged(on("a.x", "a-1"));
  figures.jobChanged(on("b.x", "b-1")); // forgets a.x
  figures.jobChanged(on("a.x", "a-2")); // forgets b.x
  now += 10;
  figures.jobChanged(
    on("a.x", "a-2", { state: "COMPLETED", finishedAt: now, workerId: "w" }),
  );
  const [panel] = figures.view([]).panels;
  assertEquals([panel.topic, panel.pending, panel.doneLastMinute], [
    "a.x",
    0,
    1,
  ]);
});

Deno.test("a topic's panel counts pending, running, done, failures, waits and run times", () => {
  let now = 1_000_000;
  const figures = new QueueFigures({ clock: () => now });
  for (let i = 0; i < 5; i++) {
    figures.jobChanged(job(`p${i}`, { submittedAt: now - 1000 + i }));
  }
  const done = job("p0", { submittedAt: now - 1000 });
  figures.jobChanged(done);
  now += 500;
  Object.assign(done, {
    state: "COMPLETED",
    finishedAt: now,
    workerId: "w",
    executionMs: 200,
  });
  figures.jobChanged(done);
  figures.jobChanged(done); // seen twice, counted once
  const failed = job("p1");
  Object.assign(failed, {
    state: "FAILED",
    finishedAt: now,
    submittedAt: now - 1000,
    workerId: "w",
    executionMs: 100,
  });
  figures.jobChanged(failed);
  // A refused job never reaches a queue.
  figures.jobChanged(job("r", { subject: "", state: "DENIED", topic: "x" }));
  const view = figures.view([worker("w", 1)]);
  assertEquals(view.panels.map((p) => p.topic), ["job.echo"]);
  const [panel] = view.panels;
  assertStrictEquals(panel.pool, "echo");
  assertStrictEquals(panel.running, 1);
  assertStrictEquals(panel.pending, 2);
  assertStrictEquals(panel.doneLastMinute, 2);
  assertStrictEquals(panel.failedLastMinute, 1);
  assertStrictEquals(panel.failureRate, 0.5);
  assertStrictEquals(panel.workersOnline, 1);
  // p0 to p4 came in order; p2 is taken to be running, p3 is the oldest waiting.
  assertStrictEquals(panel.oldestPendingMs, 1500 - 3);
  assertOk(
    panel.runMs && panel.runMs.p95 >= 150 && panel.runMs.p95 <= 250,
    JSON.stringify(panel),
  );
  // p0 waited 1500 - 200 ms.
  assertOk(
    panel.waitMs && panel.waitMs.p95 >= 1000 && panel.waitMs.p95 < 1700,
    JSON.stringify(panel),
  );
  const series = view.series["job.echo"];
  assertStrictEquals(series.done.length, BUCKETS);
  assertStrictEquals(series.done[BUCKETS - 1], 2);
  assertStrictEquals(series.failed[BUCKETS - 1], 1);
  assertStrictEquals(series.waitP95[0], null);
});

Deno.test("figures older than 15 minutes fall out; a job finished long ago is not counted", () => {
  let now = 50 * BUCKET_MS * BUCKETS;
  const figures = new QueueFigures({ clock: () => now });
  const old = job("old", {
    state: "COMPLETED",
    finishedAt: now - BUCKETS * BUCKET_MS,
    workerId: "w",
  });
  figures.jobChanged(old);
  assertStrictEquals(figures.size, 0);
  figures.jobChanged(
    job("a", { state: "COMPLETED", finishedAt: now, workerId: "w" }),
  );
  assertStrictEquals(figures.view([]).panels[0].doneLastMinute, 1);
  now += 61_000;
  assertStrictEquals(figures.view([]).panels[0].doneLastMinute, 0);
  now += BUCKETS * BUCKET_MS;
  const series = figures.view([]).series["job.echo"];
  assertStrictEquals(series.done.reduce((a, b) => a + b, 0), 0);
});

Deno.test("at most maxTopics topics are tracked: the idlest is forgotten", () => {
  let now = 0;
  const figures = new QueueFigures({ clock: () => now, maxTopics: 3 });
  for (const topic of ["a.x", "b.x", "c.x", "d.x"]) {
    now += 1000;
    figures.jobChanged(job(topic, { topic, subject: topic }));
  }
  assertEquals(figures.view([]).panels.map((p) => p.topic), [
    "b.x",
    "c.x",
    "d.x",
  ]);
});

Deno.test("the stream's snapshot and GET /api/queues carry the panels and series", async () => {
  using f = dashboardFixture();
  f.heartbeat("echo-a");
  f.submit("q-1");
  f.submit("q-2");
  await f.settle();
  const res = await f.app.request("/api/queues");
  assertStrictEquals(res.status, 200);
  const view = await res.json() as QueuesView;
  assertEquals(view.panels.map((p) => [p.topic, p.doneLastMinute]), [
    ["job.echo", 2],
  ]);
  assertStrictEquals(view.panels[0].workersOnline, 1);
  assertStrictEquals(view.series["job.echo"].done.length, BUCKETS);
  const events = await f.app.request("/api/events");
  const sse = new SseReader(events.body!);
  try {
    const snapshot = JSON.parse((await sse.nextEvent()).data) as SnapshotEvent;
    assertStrictEquals(snapshot.queues.panels[0].doneLastMinute, 2);
    assertOk(snapshot.queues.series?.["job.echo"]);
  } finally {
    await sse.cancel();
  }
});
