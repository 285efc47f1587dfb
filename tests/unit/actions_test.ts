/**
 * Cancel and drain in core mode, over the in-memory bus: the job table
 * fences a worker's late result, the notices go out, the registry shows a
 * worker draining; the routes answer 200/404/409 and audit what they did.
 */
import { create } from "@bufbuild/protobuf";
import {
  JobResultSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { packet } from "../../src/bus/codec.ts";
import {
  cancelledJob,
  CancelledJobs,
  drainAsked,
} from "../../src/bus/control.ts";
import { CANCEL, DRAIN, RESULT } from "../../src/bus/subjects.ts";
import { finalState } from "../../src/contract/mod.ts";
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { dashboardFixture } from "../dashboard_fixture.ts";

const json = { "content-type": "application/json" };

function post(
  app: {
    request: (path: string, init: RequestInit) => Response | Promise<Response>;
  },
  path: string,
  body = "{}",
) {
  return app.request(path, { method: "POST", headers: json, body });
}

Deno.test("cancel (core): a job in flight ends CANCELLED, the only result; the worker's late result is fenced; a final job is 409, an unknown one 404", async () => {
  using f = dashboardFixture({ echo: false });
  f.submit("job-1");
  const res = await post(f.app, "/api/jobs/job-1/cancel");
  assertEquals(res.status, 200);
  assertEquals(await res.json(), {
    status: "ok",
    id: "job-1",
    detail: "cancelled by dashboard",
  });
  assertEquals(f.scheduler.jobs.get("job-1")?.state, "CANCELLED");
  assertEquals(f.scheduler.counters.cancelled, 1);
  assertEquals(f.bus.on(CANCEL).map(cancelledJob), ["job-1"]);
  const results = () =>
    f.bus.on(RESULT).flatMap((p) =>
      p.payload.case === "jobResult" ? [finalState(p.payload.value.status)] : []
    );
  assertEquals(results(), ["CANCELLED"]);

  // The worker's result after the cancel: late, not recorded.
  f.bus.publish(
    RESULT,
    packet({
      case: "jobResult",
      value: create(JobResultSchema, {
        jobId: "job-1",
        status: JobStatus.COMPLETED,
        workerId: "echo-1",
      }),
    }, { senderId: "echo-1" }),
  );
  assertEquals(f.scheduler.jobs.get("job-1")?.state, "CANCELLED");
  assertEquals(f.scheduler.counters.lateResults, 1);

  const again = await post(f.app, "/api/jobs/job-1/cancel", "");
  assertEquals(again.status, 409);
  assertMatch((await again.json()).error, /job job-1 is CANCELLED already/);
  const unknown = await post(f.app, "/api/jobs/nope/cancel");
  assertEquals(unknown.status, 404);
  await unknown.body?.cancel();

  const audit = await (await f.app.request("/api/audit")).json();
  const cancels = audit.entries.filter((e: { action: string }) =>
    e.action === "cancel"
  );
  assertEquals(cancels.map((e: { count: number }) => e.count), [0, 0, 1]);
});

Deno.test("drain (core): the notice names the worker, every replica shows it draining, resume and the rules of each", async () => {
  using f = dashboardFixture();
  f.heartbeat("echo-1");
  const drain = await post(f.app, "/api/workers/echo-1/drain");
  assertEquals(drain.status, 200, await drain.clone().text());
  await drain.body?.cancel();
  assertEquals(f.bus.on(DRAIN).map(drainAsked), [
    { workerId: "echo-1", ask: "drain" },
  ]);
  // The scheduler heard its own notice, as every replica does.
  assertEquals(f.scheduler.workers.get("echo-1")?.state, "draining");
  assertEquals(f.scheduler.workers.counts().draining, 1);
  // A heartbeat of the same live worker keeps it draining.
  f.heartbeat("echo-1");
  assertEquals(f.scheduler.workers.get("echo-1")?.state, "draining");
  const twice = await post(f.app, "/api/workers/echo-1/drain");
  assertEquals(twice.status, 409);
  await twice.body?.cancel();

  const resume = await post(
    f.app,
    "/api/workers/echo-1/drain",
    '{"resume": true}',
  );
  assertEquals(resume.status, 200);
  await resume.body?.cancel();
  assertEquals(f.scheduler.workers.get("echo-1")?.state, "online");
  const notDraining = await post(
    f.app,
    "/api/workers/echo-1/drain",
    '{"resume": true}',
  );
  assertEquals(notDraining.status, 409);
  await notDraining.body?.cancel();
  const unknown = await post(f.app, "/api/workers/nobody/drain");
  assertEquals(unknown.status, 404);
  await unknown.body?.cancel();
  const bad = await post(f.app, "/api/workers/echo-1/drain", '{"resume":"y"}');
  assertEquals(bad.status, 400);
  await bad.body?.cancel();
});

Deno.test("CancelledJobs remembers the newest ids only", () => {
  const cancels = new CancelledJobs(2);
  cancels.add("a");
  cancels.add("b");
  cancels.add("c");
  assertOk(!cancels.has("a"));
  assertOk(cancels.has("b") && cancels.has("c"));
});
