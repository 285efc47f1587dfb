import {
  assertEquals,
  assertMatch,
  assertOk,
  assertStrictEquals,
} from "../assert.ts";
import { dashboardFixture } from "../dashboard_fixture.ts";
import type {
  JobDetail,
  JobSummary,
  SubmitResponse,
  WorkerSummary,
} from "../../src/contract/mod.ts";

const json = { "content-type": "application/json" };

Deno.test("GET /api/workers lists the workers that sent heartbeats", async () => {
  using f = dashboardFixture();
  f.heartbeat("echo-a");
  f.heartbeat("<b>evil</b>");
  const res = await f.app.request("/api/workers");
  assertStrictEquals(res.status, 200);
  const body = await res.json() as {
    workers: WorkerSummary[];
    counts: Record<string, number>;
  };
  assertEquals(body.workers.map((w) => w.workerId).sort(), [
    "<b>evil</b>",
    "echo-a",
  ]);
  assertEquals(body.counts, {
    online: 2,
    draining: 0,
    stale: 0,
    offline: 0,
  });
  assertStrictEquals(body.workers[0].maxParallelJobs, 4);
});

Deno.test("GET /api/jobs filters by status, topic and job id, newest first", async () => {
  using f = dashboardFixture();
  f.submit("alpha-1");
  f.submit("alpha-2");
  f.submit("beta-1");
  f.submit("denied-1", "x", "sys.destroy");
  await f.settle();
  const get = async (query: string) => {
    const res = await f.app.request(`/api/jobs${query}`);
    assertStrictEquals(res.status, 200, query);
    return ((await res.json()) as { jobs: JobSummary[] }).jobs.map((j) =>
      j.jobId
    );
  };
  assertEquals(await get(""), ["denied-1", "beta-1", "alpha-2", "alpha-1"]);
  assertEquals(await get("?status=denied"), ["denied-1"]);
  assertEquals(await get("?status=COMPLETED,DENIED&limit=2"), [
    "denied-1",
    "beta-1",
  ]);
  assertEquals(await get("?topic=job.echo&q=ALPHA"), ["alpha-2", "alpha-1"]);
  assertEquals(await get("?q=nothing-like-this"), []);
});

Deno.test("GET /api/jobs refuses a bad status or limit, saying what is allowed", async () => {
  using f = dashboardFixture();
  const bad = await f.app.request("/api/jobs?status=DONE");
  assertStrictEquals(bad.status, 400);
  assertMatch((await bad.json()).error, /COMPLETED/);
  const big = await f.app.request("/api/jobs?limit=100000");
  assertStrictEquals(big.status, 400);
  assertMatch((await big.json()).error, /limit/);
});

Deno.test("GET /api/jobs/:id has the request, result, history, timings and trace id", async () => {
  using f = dashboardFixture();
  f.submit("job-1", "payload text");
  await f.settle();
  const res = await f.app.request("/api/jobs/job-1");
  assertStrictEquals(res.status, 200);
  const d = await res.json() as JobDetail;
  assertStrictEquals(d.state, "COMPLETED");
  assertMatch(d.traceId, /^[0-9a-f]{32}$/);
  assertStrictEquals(d.request.topic, "job.echo");
  assertStrictEquals(d.request.submitter, "submit-test");
  assertStrictEquals(d.request.payloadPreview, "payload text");
  assertStrictEquals(d.result?.workerId, "echo-test");
  assertStrictEquals(d.result?.outputPreview, "payload text");
  assertEquals(d.history.map((s) => s.state), [
    "PENDING",
    "DISPATCHED",
    "COMPLETED",
  ]);
  assertStrictEquals(d.timings.executionMs, 3);
  assertOk(d.timings.roundTripMs !== null && d.timings.roundTripMs >= 0);

  const missing = await f.app.request("/api/jobs/nope");
  assertStrictEquals(missing.status, 404);
  assertMatch((await missing.json()).error, /no job "nope"/);
});

Deno.test("POST /api/jobs submits through the scheduler's own validation and safety", async () => {
  using f = dashboardFixture();
  const res = await f.app.request("/api/jobs", {
    method: "POST",
    headers: json,
    body: JSON.stringify({
      topic: "job.echo",
      payload: "hi",
      priority: "critical",
      count: 3,
    }),
  });
  assertStrictEquals(res.status, 200);
  const body = await res.json() as SubmitResponse;
  assertStrictEquals(body.dispatched, 3);
  assertEquals(body.outcomes.map((o) => o.status), [
    "dispatched",
    "dispatched",
    "dispatched",
  ]);
  assertStrictEquals(f.bus.on("job.echo").length, 3);
  await f.settle();
  const record = f.scheduler.jobs.get(body.outcomes[0].jobId);
  assertStrictEquals(record?.state, "COMPLETED");
  assertStrictEquals(record?.priority, "CRITICAL");
  assertStrictEquals(record?.submitter, "dashboard");

  const denied = await f.app.request("/api/jobs", {
    method: "POST",
    headers: json,
    body: JSON.stringify({ topic: "sys.destroy", payload: "x" }),
  });
  const refused = await denied.json() as SubmitResponse;
  assertStrictEquals(refused.outcomes[0].status, "denied");
  assertMatch(refused.outcomes[0].reason ?? "", /denied/);
  assertStrictEquals(f.scheduler.counters.denied, 1);

  const invalid = await f.app.request("/api/jobs", {
    method: "POST",
    headers: json,
    body: JSON.stringify({ topic: "job..echo" }),
  });
  assertStrictEquals((await invalid.json()).outcomes[0].status, "failed");
});

Deno.test("POST /api/jobs refuses non-JSON, cross-origin and malformed requests", async () => {
  using f = dashboardFixture();
  const post = (headers: Record<string, string>, body: string) =>
    f.app.request("http://127.0.0.1:8080/api/jobs", {
      method: "POST",
      headers,
      body,
    });
  const ok = JSON.stringify({ topic: "job.echo" });
  assertStrictEquals(
    (await post({ "content-type": "text/plain" }, ok)).status,
    415,
  );
  assertStrictEquals(
    (await post({
      "content-type": "application/x-www-form-urlencoded",
    }, "topic=job.echo")).status,
    415,
  );
  assertStrictEquals(
    (await post({ ...json, origin: "http://evil.example" }, ok)).status,
    403,
  );
  assertStrictEquals(
    (await post({ ...json, "sec-fetch-site": "cross-site" }, ok)).status,
    403,
  );
  assertStrictEquals(
    (await post({
      ...json,
      origin: "http://127.0.0.1:8080",
      "sec-fetch-site": "same-origin",
    }, ok)).status,
    200,
  );
  assertStrictEquals((await post(json, "{not json")).status, 400);
  const count = await post(json, JSON.stringify({ topic: "a", count: 5000 }));
  assertStrictEquals(count.status, 400);
  assertMatch((await count.json()).error, /count/);
  assertStrictEquals(f.bus.on("job.echo").length, 1);
});

Deno.test("with a token, API, events and metrics need it; health does not", async () => {
  using f = dashboardFixture({ token: "s3cret" });
  assertStrictEquals((await f.app.request("/api/workers")).status, 401);
  assertStrictEquals((await f.app.request("/metrics")).status, 401);
  assertStrictEquals((await f.app.request("/api/events")).status, 401);
  assertStrictEquals(
    (await f.app.request("/api/workers", {
      headers: { authorization: "Bearer wrong" },
    })).status,
    401,
  );
  assertStrictEquals(
    (await f.app.request("/api/workers", {
      headers: { authorization: "Bearer s3cret" },
    })).status,
    200,
  );
  const events = await f.app.request("/api/events?token=s3cret");
  assertStrictEquals(events.status, 200);
  await events.body?.cancel();
  assertStrictEquals((await f.app.request("/healthz")).status, 200);
});

Deno.test("every response carries a CSP without inline script, and nosniff", async () => {
  using f = dashboardFixture();
  for (const path of ["/api/workers", "/healthz", "/api/nope"]) {
    const res = await f.app.request(path);
    await res.body?.cancel();
    const csp = res.headers.get("content-security-policy") ?? "";
    assertMatch(csp, /script-src 'self'/, path);
    assertOk(!csp.includes("unsafe-inline"), path);
    assertStrictEquals(res.headers.get("x-content-type-options"), "nosniff");
  }
});

Deno.test("the security headers are exactly the documented five, on every kind of response", async () => {
  using f = dashboardFixture({
    token: "s3cret",
    distDir: "/nonexistent-cortex-dist",
  });
  const auth = { authorization: "Bearer s3cret" };
  // Headers a route sets for its own content; everything else must be ours.
  const own = new Set([
    "content-type",
    "content-length",
    "cache-control",
    "www-authenticate",
    "x-accel-buffering",
  ]);
  const requests: [string, RequestInit][] = [
    ["/api/workers", { headers: auth }],
    ["/api/workers", {}], // 401
    ["/api/nope", { headers: auth }],
    ["/healthz", {}],
    ["/", {}], // 503: not built
    ["/api/events", { headers: auth }],
    ["/api/jobs", { method: "POST", headers: { ...auth, ...json }, body: "{" }],
  ];
  for (const [path, init] of requests) {
    const res = await f.app.request(path, init);
    await res.body?.cancel();
    const security = Object.fromEntries(
      [...res.headers].filter(([name]) => !own.has(name)),
    );
    assertEquals(security, {
      "content-security-policy": "default-src 'none'; script-src 'self'; " +
        "style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      "cross-origin-opener-policy": "same-origin",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
    }, `${init.method ?? "GET"} ${path} (${res.status})`);
  }
});

Deno.test("a token that differs in length or content is refused", async () => {
  using f = dashboardFixture({ token: "s3cret" });
  const status = async (authorization: string) => {
    const res = await f.app.request("/api/workers", {
      headers: { authorization },
    });
    await res.body?.cancel();
    return res.status;
  };
  for (
    const wrong of [
      "Bearer ",
      "Bearer s3cre",
      "Bearer s3cret!",
      "Bearer S3CRET",
      "Basic s3cret",
    ]
  ) {
    assertStrictEquals(await status(wrong), 401, wrong);
  }
  assertStrictEquals(await status("bearer  s3cret "), 200);
  const query = await f.app.request("/api/workers?token=s3cret");
  assertStrictEquals(query.status, 200);
  await query.body?.cancel();
});

Deno.test("GET /healthz answers 503 while the bus is disconnected", async () => {
  using f = dashboardFixture();
  const up = await f.app.request("/healthz");
  assertStrictEquals(up.status, 200);
  assertEquals((await up.json()).bus, { connected: true });
  f.bus.connected = false;
  const down = await f.app.request("/healthz");
  assertStrictEquals(down.status, 503);
  const body = await down.json();
  assertStrictEquals(body.status, "degraded");
  assertOk(typeof body.uptimeSeconds === "number");
});

Deno.test("GET /metrics is Prometheus text with jobs, latencies, workers and clients", async () => {
  using f = dashboardFixture();
  f.heartbeat("echo-a");
  f.submit("m-1");
  f.submit("m-2");
  f.submit("m-3", "x", "sys.destroy");
  await f.settle();
  const res = await f.app.request("/metrics");
  assertMatch(
    res.headers.get("content-type") ?? "",
    /^text\/plain; version=0.0.4/,
  );
  const text = await res.text();
  for (
    const line of [
      'cortex_jobs_finished_total{status="COMPLETED",topic="job.echo"} 2',
      'cortex_jobs_finished_total{status="DENIED",topic="sys.destroy"} 1',
      "cortex_jobs_submitted_total 3",
      'cortex_job_dispatch_latency_seconds_bucket{le="+Inf"} 2',
      "cortex_job_end_to_end_latency_seconds_count 3",
      'cortex_workers{state="online"} 1',
      "cortex_bus_undecodable_packets_total 0",
      "cortex_dashboard_sse_clients 0",
      "# TYPE cortex_job_end_to_end_latency_seconds histogram",
    ]
  ) {
    assertOk(text.includes(line), `missing ${line} in\n${text}`);
  }
});

Deno.test("unknown API routes answer JSON 404", async () => {
  using f = dashboardFixture();
  const res = await f.app.request("/api/nope");
  assertStrictEquals(res.status, 404);
  assertMatch((await res.json()).error, /no route/);
});
