/**
 * The search's id-prefix, worker and text fields in a bulk filter: checked
 * at the edge, and matched as `GET /api/jobs` matches them, so a dry run
 * counts what the search finds.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { dashboardFixture } from "../dashboard_fixture.ts";
import { jobRecord } from "../job_record.ts";
import type {
  BulkFilter,
  BulkResponse,
  JobsResponse,
} from "../../src/contract/mod.ts";
import { JobState } from "../../src/contract/mod.ts";
import { createDashboardApp } from "../../src/dashboard/app.ts";
import { parseBulkRequest } from "../../src/dashboard/bulk_filter.ts";
import { jobSummary } from "../../src/dashboard/views.ts";
import { logger } from "../../src/log.ts";
import { JobHistory } from "../../src/scheduler/job_history.ts";

Deno.test("a bulk filter takes idPrefix, worker and text as strings", () => {
  const ok = parseBulkRequest({
    action: "cancel",
    filter: { idPrefix: "web-", worker: "echo-1", text: "disk", topic: "" },
    dryRun: true,
  });
  assertOk(typeof ok !== "string", String(ok));
  assertEquals(ok.filter, { idPrefix: "web-", worker: "echo-1", text: "disk" });
  assertEquals(
    [ok.query.idPrefix, ok.query.worker, ok.query.text, ok.query.topic],
    ["web-", "echo-1", "disk", undefined],
  );
  for (const key of ["idPrefix", "worker", "text"]) {
    assertMatch(
      parseBulkRequest({
        action: "retry",
        dryRun: true,
        filter: { [key]: 7 },
      }) as string,
      new RegExp(`filter\\.${key} must be a string`),
    );
  }
});

Deno.test("a dry run with idPrefix, worker and text counts what the search finds", async () => {
  using f = dashboardFixture();
  const history = new JobHistory(jobSummary);
  for (let i = 0; i < 12; i++) {
    history.jobChanged(jobRecord(`${i < 4 ? "alpha" : "beta"}-${i}`, {
      state: i % 2 === 0 ? JobState.FAILED : JobState.COMPLETED,
      submittedAt: 1000 + i,
      finishedAt: 1010 + i,
      workerId: i % 3 === 0 ? "echo-9" : "echo-1",
      payloadPreview: i < 6 ? `find the needle ${i}` : "hay",
      payloadBytes: 20,
    }));
  }
  const app = createDashboardApp({
    scheduler: f.scheduler,
    history,
    bus: { connected: true, undecodable: 0 },
    hub: f.hub,
    metrics: f.metrics,
    log: logger("test"),
  });
  const cases: [BulkFilter, number][] = [
    [{ idPrefix: "alpha-" }, 4],
    [{ worker: "echo-9" }, 4], // 0, 3, 6, 9
    [{ text: "NEEDLE" }, 6],
    [{ idPrefix: "beta-", text: "needle", status: [JobState.FAILED] }, 1],
    [{ worker: "echo-1", text: "hay" }, 4], // 7, 8, 10, 11
  ];
  for (const [filter, expected] of cases) {
    const res = await app.request("/api/jobs/bulk", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: "retry", filter, dryRun: true }),
    });
    const dry = await res.json() as BulkResponse;
    assertEquals(dry.matched, expected, JSON.stringify(filter));
    const params = new URLSearchParams({ limit: "1000" });
    for (const [key, value] of Object.entries(filter)) {
      params.set(key, Array.isArray(value) ? value.join(",") : String(value));
    }
    const search = await (await app.request(`/api/jobs?${params}`))
      .json() as JobsResponse;
    assertEquals(
      dry.sample,
      search.jobs.map((j) => j.jobId).slice(0, 10),
      `the search finds the same jobs: ${JSON.stringify(filter)}`,
    );
  }
});
