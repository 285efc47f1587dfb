/**
 * Durable mode's operator parts without NATS: retry by hand in the ledger
 * (what it changes, what it fences, what it resends), counters that never go
 * down across a retry, the backlog by pool, the durable /metrics lines and
 * the retry route over a fake service.
 */
import { create } from "@bufbuild/protobuf";
import {
  JobRequestSchema,
  JobResultSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import {
  type LedgerEntry,
  requestOf,
  retryProblem,
} from "../../src/scheduler/ledger.ts";
import {
  admittedEntry,
  recordAttempt,
  refusedEntry,
  retryEntry,
  timeOut,
} from "../../src/scheduler/ledger_changes.ts";
import {
  type DurableCounters,
  LedgerView,
} from "../../src/scheduler/ledger_view.ts";
import { JobTable } from "../../src/scheduler/job_table.ts";
import { poolBacklogs } from "../../src/scheduler/backlog.ts";
import {
  type RetryOutcome,
  type SchedulerCounters,
  type SchedulerService,
  zeroCounters,
} from "../../src/scheduler/service.ts";
import { workMessageId } from "../../src/bus/durable/layout.ts";
import { DashboardMetrics } from "../../src/dashboard/metrics.ts";
import { createDashboardApp } from "../../src/dashboard/app.ts";
import { logger } from "../../src/log.ts";
import { dashboardFixture } from "../dashboard_fixture.ts";
import { assertEquals, assertOk } from "../assert.ts";

const payload = new Uint8Array(5_000).map((_, i) => i % 251);
const job = create(JobRequestSchema, {
  jobId: "j1",
  topic: "job.echo",
  payload,
});

function admitted(maxAttempts = 2): LedgerEntry {
  return admittedEntry(job, {
    traceId: "t1",
    submitter: "cli",
    submitSeq: 1,
    now: 1_000,
    subject: "cortex.work.job.echo",
    maxAttempts,
    deadline: 61_000,
  });
}

function report(attempt: number, failed: boolean) {
  return create(JobResultSchema, {
    jobId: "j1",
    status: failed ? JobStatus.FAILED : JobStatus.COMPLETED,
    workerId: "w",
    error: failed ? `failure ${attempt}` : "",
    attempts: attempt,
  });
}

function deadLettered(): LedgerEntry {
  let entry = admitted();
  entry = recordAttempt(entry, report(1, true), 2_000)!;
  entry = recordAttempt(entry, report(2, true), 3_000)!;
  assertOk(entry.deadLettered);
  return entry;
}

const retry = { by: "dashboard", now: 10_000, subject: "cortex.work.job.echo" };

Deno.test("a dead-lettered job retried by hand: DISPATCHED, attempts after the old budget, history kept, whole payload resent", () => {
  const before = deadLettered();
  assertEquals(retryProblem(before), undefined);
  const after = retryEntry(before, { ...retry, deadline: 70_000 })!;
  assertEquals(after.state, "DISPATCHED");
  assertEquals(after.attemptBase, 2);
  assertEquals(after.maxAttempts, 4);
  assertEquals(after.deadLettered, false);
  assertEquals(after.error, "");
  assertEquals(after.finishedAt, undefined);
  assertEquals(after.deadline, 70_000);
  assertEquals(after.attempts.length, 2, "attempts kept");
  assertEquals(after.retriedByHand?.[0].state, "FAILED");
  assertEquals(after.retriedByHand?.[0].deadLettered, true);
  assertEquals(after.change, "retried");
  const request = requestOf(after);
  assertEquals(request.payload, payload);
  assertEquals(request.attemptBase, 2);
  assertEquals(request.maxAttempts, 4);
  // A report of the earlier dispatch is fenced; the new attempts count.
  assertEquals(recordAttempt(after, report(2, false), 11_000), undefined);
  const third = recordAttempt(after, report(3, false), 11_000)!;
  assertEquals(third.state, "COMPLETED");
  assertEquals(third.attempts.map((a) => a.attempt), [1, 2, 3]);
  // Retrying again once it is not final, or COMPLETED: refused.
  assertEquals(retryEntry(after, { ...retry, deadline: 0 }), undefined);
  assertOk(retryProblem(third)?.includes("COMPLETED"));
  // A second retry extends by the per-dispatch budget again.
  const failedAgain = recordAttempt(
    recordAttempt(after, report(3, true), 12_000)!,
    report(4, true),
    13_000,
  )!;
  assertOk(failedAgain.deadLettered);
  const twice = retryEntry(failedAgain, { ...retry, deadline: 0 })!;
  assertEquals([twice.attemptBase, twice.maxAttempts], [4, 6]);
  assertEquals(workMessageId("j1", twice.attemptBase), "j1#work#4");
  assertEquals(workMessageId("j1"), "j1#work");
});

Deno.test("only a dispatched job that ended FAILED or TIMEOUT can be retried; refused jobs keep no payload", () => {
  const timedOut = timeOut(admitted(), 70_000, 60_000)!;
  assertEquals(retryProblem(timedOut), undefined);
  const refused = refusedEntry(
    job,
    {
      traceId: "t",
      submitter: "cli",
      submitSeq: 1,
      now: 1,
      subject: "",
      maxAttempts: 1,
      deadline: 0,
    },
    "FAILED",
    "bad",
  );
  assertEquals(refused.payload, undefined);
  assertOk(retryProblem(refused)?.includes("refused at submission"));
  assertOk(retryProblem(admitted())?.includes("DISPATCHED"));
  const old = { ...deadLettered(), payload: undefined };
  assertOk(retryProblem(old)?.includes("did not keep payloads"));
});

Deno.test("counters across a retry by hand never go down", () => {
  const jobs = new JobTable({ capacity: 10 });
  const counters: SchedulerCounters = zeroCounters();
  const durable: DurableCounters = {
    retries: 0,
    deadLettered: 0,
    duplicateDeliveries: 0,
  };
  const view = new LedgerView(jobs, counters, durable, new Set());
  const dead = deadLettered();
  view.apply(dead, { initial: true });
  const retried = retryEntry(dead, { ...retry, deadline: 70_000 })!;
  view.apply(retried, { initial: false });
  assertEquals([counters.failed, counters.dispatched], [1, 2]);
  assertEquals(durable.deadLettered, 1);
  assertEquals(jobs.inflight, 1);
  view.apply(recordAttempt(retried, report(3, false), 11_000)!, {
    initial: false,
  });
  assertEquals([counters.failed, counters.completed], [1, 1]);
  assertEquals(durable.deadLettered, 1);
  assertEquals(durable.retries, 2);
  // Another replica, starting now, counts the same from the entry alone.
  const counters2 = { ...counters, failed: 0, completed: 0, dispatched: 0 };
  const durable2 = { retries: 0, deadLettered: 0, duplicateDeliveries: 0 };
  new LedgerView(new JobTable({ capacity: 10 }), counters2, durable2, new Set())
    .apply(recordAttempt(retried, report(3, false), 1)!, {
      initial: true,
    });
  assertEquals([counters2.failed, counters2.completed], [1, 1]);
  assertEquals(durable2.deadLettered, 1);
});

Deno.test("the backlog sums topics by pool, the oldest job of any", () => {
  assertEquals(
    poolBacklogs([
      { topic: "job.echo", pending: 2, redelivered: 1, oldestAt: 1_000 },
      { topic: "gpu.echo", pending: 1, redelivered: 0, oldestAt: 500 },
      { topic: "job.resize", pending: 0, redelivered: 0 },
    ], 3_000),
    [
      { pool: "echo", pending: 3, oldestPendingSeconds: 2.5, redelivered: 1 },
      { pool: "resize", pending: 0, oldestPendingSeconds: 0, redelivered: 0 },
    ],
  );
});

/** The fixture's core scheduler, with a fake durable part. */
function withDurable(
  scheduler: SchedulerService,
  retryOutcome: (id: string) => RetryOutcome,
): SchedulerService {
  return {
    get counters() {
      return scheduler.counters;
    },
    jobs: scheduler.jobs,
    workers: scheduler.workers,
    submit: (j) => scheduler.submit(j),
    observe: (o) => scheduler.observe(o),
    cancel: (id, by) => scheduler.cancel(id, by),
    drain: (id, o) => scheduler.drain(id, o),
    durable: {
      stats: () => ({
        pools: [{
          pool: "echo",
          pending: 7,
          oldestPendingSeconds: 12.5,
          redelivered: 2,
        }],
        retries: 4,
        deadLettered: 1,
        duplicateDeliveries: 3,
        sampledAt: 1,
      }),
      retry: (id) => Promise.resolve(retryOutcome(id)),
    },
  };
}

Deno.test("/metrics has the durable lines only in durable mode", () => {
  using f = dashboardFixture();
  assertOk(!f.metrics.render().includes("cortex_jobs_pending"));
  const metrics = new DashboardMetrics({
    scheduler: withDurable(f.scheduler, () => {
      throw new Error("unused");
    }),
    bus: { connected: true, undecodable: 0 },
    sseClients: () => 0,
  });
  const text = metrics.render();
  metrics.close();
  for (
    const line of [
      '# TYPE cortex_jobs_pending gauge\ncortex_jobs_pending{pool="echo"} 7',
      'cortex_jobs_oldest_pending_seconds{pool="echo"} 12.5',
      'cortex_jobs_redelivered{pool="echo"} 2',
      "# TYPE cortex_jobs_retried_total counter\ncortex_jobs_retried_total 4",
      "cortex_jobs_dead_lettered_total 1",
      "cortex_jobs_duplicate_deliveries_total 3",
    ]
  ) assertOk(text.includes(line), line);
});

Deno.test("POST /api/jobs/:id/retry: 409 in core mode; the durable outcomes map to 200, 404, 409, 503", async () => {
  using f = dashboardFixture();
  const post = (app: typeof f.app, id: string, body = "{}") =>
    app.request(`/api/jobs/${id}/retry`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
  const core = await post(f.app, "x");
  assertEquals(core.status, 409);
  assertOk((await core.json()).error.includes("retry needs durable mode"));
  const app = createDashboardApp({
    scheduler: withDurable(f.scheduler, (id) => {
      if (id === "boom") throw new Error("no ledger");
      return id === "ok"
        ? {
          status: "retried",
          jobId: id,
          subject: "cortex.work.job.echo",
          firstAttempt: 4,
          maxAttempts: 6,
        }
        : id === "done"
        ? { status: "conflict", jobId: id, reason: "job done is COMPLETED" }
        : { status: "unknown", jobId: id, reason: "no such job" };
    }),
    bus: { connected: true, undecodable: 0 },
    hub: f.hub,
    metrics: f.metrics,
    log: logger("test"),
  });
  const ok = await post(app, "ok", "");
  assertEquals(ok.status, 200);
  assertEquals((await ok.json()).firstAttempt, 4);
  assertEquals((await post(app, "done")).status, 409);
  assertEquals((await post(app, "nope")).status, 404);
  assertEquals((await post(app, "boom")).status, 503);
  assertEquals((await post(app, "ok", "[1]")).status, 400);
  const form = await app.request("/api/jobs/ok/retry", {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: "{}",
  });
  assertEquals(form.status, 415);
  const crossSite = await app.request("/api/jobs/ok/retry", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "sec-fetch-site": "cross-site",
    },
    body: "{}",
  });
  assertEquals(crossSite.status, 403);
});

Deno.test("GET /api/jobs?deadLettered= is true or false", async () => {
  using f = dashboardFixture();
  assertEquals((await f.app.request("/api/jobs?deadLettered=yes")).status, 400);
  const res = await f.app.request("/api/jobs?deadLettered=true");
  assertEquals((await res.json()).jobs, []);
});
