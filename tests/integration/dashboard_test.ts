/**
 * The dashboard served by a real `deno task scheduler` over a real
 * nats-server, read with plain HTTP clients.
 */
import { assertEquals, assertMatch, assertOk, eventually } from "../assert.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { freePort } from "../../scripts/support/ports.ts";
import { runTask, startTask } from "../processes.ts";
import { SseReader } from "../sse.ts";
import { dashboardFixture } from "../dashboard_fixture.ts";
import type { DeltaEvent, SnapshotEvent } from "../../src/contract/mod.ts";

const FAST = {
  CORTEX_ECHO_MIN_MS: "0",
  CORTEX_ECHO_MAX_MS: "0",
  CORTEX_HEARTBEAT_MS: "300",
};

async function events(base: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}api/events`, { headers });
  assertEquals(res.status, 200);
  return new SseReader(res.body!);
}

Deno.test("deno task scheduler serves the UI, the API, the event stream, health and metrics", async () => {
  await using nats = await startNatsServer();
  const port = freePort();
  const env = { NATS_URL: nats.url, ...FAST };
  await using scheduler = startTask("scheduler", [], {
    ...env,
    CORTEX_DASHBOARD_PORT: String(port),
  });
  const line = await scheduler.waitFor(/dashboard listening on/);
  const base = `http://127.0.0.1:${port}/`;
  assertOk(line.includes(base), line);
  await using worker = startTask("worker:echo", [], {
    ...env,
    CORTEX_WORKER_ID: "echo-it-1",
  });
  await worker.waitFor(/taking job\.echo/);

  const page = await fetch(base);
  assertEquals(page.status, 200);
  assertMatch(await page.text(), /<script type="module" src="app.js">/);
  assertMatch(
    page.headers.get("content-security-policy")!,
    /script-src 'self'/,
  );
  const js = await fetch(`${base}app.js`);
  assertMatch(js.headers.get("content-type")!, /javascript/);
  assertEquals(js.headers.get("x-content-type-options"), "nosniff");
  await js.body?.cancel();
  const traversal = await fetch(`${base}..%2F..%2Fdeno.json`);
  assertEquals(traversal.status, 404);
  await traversal.body?.cancel();

  const sse = await events(base);
  try {
    const snapshot = JSON.parse((await sse.nextEvent()).data) as SnapshotEvent;
    assertEquals(snapshot.type, "snapshot");

    const submit = await runTask("submit", ["--count", "3"], env);
    assertEquals(submit.code, 0, submit.stderr);
    const seen = new Map<string, string>();
    let lastId = "";
    await eventually(async () => {
      const e = await sse.nextEvent();
      lastId = e.id ?? lastId;
      for (const job of (JSON.parse(e.data) as DeltaEvent).jobs) {
        seen.set(job.jobId, job.state);
      }
      return [...seen.values()].filter((s) => s === "COMPLETED").length === 3;
    }, { what: "three COMPLETED jobs on the stream" });
    await sse.cancel();

    // Missed events come back on reconnect with Last-Event-ID.
    const more = await runTask("submit", ["--count", "1"], env);
    assertEquals(more.code, 0, more.stderr);
    const resumed = await events(base, { "last-event-id": lastId });
    try {
      await eventually(async () => {
        const e = await resumed.nextEvent();
        assertEquals(e.event, "delta");
        return (JSON.parse(e.data) as DeltaEvent).jobs.some((j) =>
          j.state === "COMPLETED" && !seen.has(j.jobId)
        );
      }, { what: "the missed job after resuming" });
    } finally {
      await resumed.cancel();
    }
  } finally {
    await sse.cancel();
  }

  const workers = await (await fetch(`${base}api/workers`)).json();
  assertEquals(workers.workers[0].workerId, "echo-it-1");
  const jobs = await (await fetch(`${base}api/jobs?status=COMPLETED`)).json();
  assertEquals(jobs.jobs.length, 4);
  const health = await fetch(`${base}healthz`);
  assertEquals(health.status, 200);
  assertEquals((await health.json()).bus.connected, true);
  const metrics = await (await fetch(`${base}metrics`)).text();
  assertMatch(
    metrics,
    /cortex_jobs_finished_total\{status="COMPLETED",topic="job.echo"\} 4/,
  );
  assertMatch(metrics, /cortex_workers\{state="online"\} 1/);

  // Streams whose client went away are dropped by the server.
  await eventually(async () => {
    const text = await (await fetch(`${base}metrics`)).text();
    return /cortex_dashboard_sse_clients 0\b/.test(text);
  }, { what: "no SSE clients left after they disconnected" });
});

Deno.test("listening beyond loopback without a token, the scheduler refuses to start", async () => {
  await using nats = await startNatsServer();
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD_HOST: "0.0.0.0",
    CORTEX_DASHBOARD_PORT: String(freePort()),
  });
  const status = await scheduler.status;
  assertEquals(status.code, 2);
  assertOk(
    scheduler.lines.some((l) => /CORTEX_DASHBOARD_TOKEN/.test(l)),
    scheduler.lines.join("\n"),
  );
});

Deno.test("with a token, beyond loopback, every API and event request must present it", async () => {
  await using nats = await startNatsServer();
  const port = freePort();
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD_HOST: "0.0.0.0",
    CORTEX_DASHBOARD_PORT: String(port),
    CORTEX_DASHBOARD_TOKEN: "integration-secret",
  });
  await scheduler.waitFor(/dashboard listening on/);
  const base = `http://127.0.0.1:${port}/`;
  for (const path of ["api/workers", "api/jobs", "api/events", "metrics"]) {
    const res = await fetch(base + path);
    assertEquals(res.status, 401, path);
    await res.body?.cancel();
  }
  const ok = await fetch(`${base}api/workers`, {
    headers: { authorization: "Bearer integration-secret" },
  });
  assertEquals(ok.status, 200);
  await ok.body?.cancel();
  const stream = await fetch(`${base}api/events?token=integration-secret`);
  assertEquals(stream.status, 200);
  await stream.body?.cancel();
});

Deno.test("CORTEX_DASHBOARD=off: the scheduler runs without the dashboard", async () => {
  await using nats = await startNatsServer();
  const port = freePort();
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD: "off",
    CORTEX_DASHBOARD_PORT: String(port),
  });
  await scheduler.waitFor(/serving sys\.job\.submit/);
  assertOk(!scheduler.lines.some((l) => /dashboard listening/.test(l)));
  let refused = false;
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
  } catch {
    refused = true;
  }
  assertOk(refused, "nothing listens on the dashboard port");
});

Deno.test("when the UI is not built, / says how to build it instead of failing", async () => {
  const empty = await Deno.makeTempDir({ prefix: "cortex-dist-" });
  try {
    using f = dashboardFixture({ distDir: empty });
    const res = await f.app.request("/");
    assertEquals(res.status, 503);
    assertMatch(await res.text(), /deno task build:dashboard/);
    const js = await f.app.request("/app.js");
    assertEquals(js.status, 404);
    await js.body?.cancel();
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});
