/**
 * Cancel one job and drain a worker, against a real nats-server and the
 * real scheduler process (its dashboard's HTTP API), in core and durable
 * mode, with SDK workers: a running job's handler sees its signal abort and
 * its late output is never published; a job waiting behind it is never
 * started; the only result on `sys.job.result` for each is CANCELLED; a
 * final job answers 409; a drained worker takes no new jobs while another
 * does.
 */
import { connect as natsConnect } from "@nats-io/transport-node";
import { connect, type Job } from "../../mod.ts";
import { decodePacket } from "../../src/bus/codec.ts";
import { RESULT } from "../../src/bus/subjects.ts";
import { finalState } from "../../src/contract/mod.ts";
import {
  type NatsServer,
  startNatsServer,
} from "../../scripts/support/nats_server.ts";
import { dashboardUrl, startTask } from "../processes.ts";
import { assertEquals, assertMatch, assertOk, eventually } from "../assert.ts";

const TOPIC = "job.canceltest";
type Mode = "none" | "jetstream";

async function startScheduler(nats: NatsServer, durability: Mode) {
  const scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD_PORT: "0",
    CORTEX_DURABILITY: durability,
  });
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  const url = await dashboardUrl(scheduler);
  return { scheduler, url };
}

function post(url: string, path: string, body = "{}"): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
}

/** Every result on `sys.job.result`, as `jobId` → statuses in order. */
async function watchResults(url: string) {
  const nc = await natsConnect({ servers: url });
  const seen = new Map<string, string[]>();
  nc.subscribe(RESULT, {
    callback: (_e, msg) => {
      const d = decodePacket(msg.data);
      if (!d.ok || d.packet.payload.case !== "jobResult") return;
      const r = d.packet.payload.value;
      seen.set(r.jobId, [...(seen.get(r.jobId) ?? []), finalState(r.status)]);
    },
  });
  await nc.flush();
  return {
    seen,
    async [Symbol.asyncDispose]() {
      await nc.close();
    },
  };
}

/** Resolves with `job`'s abort reason once its signal aborts. */
function aborted(job: Job): Promise<unknown> {
  return new Promise((resolve) => {
    if (job.signal.aborted) resolve(job.signal.reason);
    job.signal.addEventListener("abort", () => resolve(job.signal.reason));
  });
}

for (const mode of ["none", "jetstream"] as const) {
  Deno.test(`cancel (${mode}): a running job's handler sees the abort, a waiting one never starts, CANCELLED is the only result; a final job is 409`, async () => {
    await using nats = await startNatsServer();
    const { scheduler, url } = await startScheduler(nats, mode);
    await using _scheduler = scheduler;
    await using results = await watchResults(nats.url);
    await using cortex = await connect({ servers: nats.url, durability: mode });
    const started: string[] = [];
    const reasons = new Map<string, string>();
    await cortex.worker(TOPIC, async (job) => {
      started.push(job.id);
      if (job.id !== "run-1") return "done";
      const reason = await aborted(job);
      reasons.set(job.id, reason instanceof Error ? reason.message : "?");
      // Returned after the abort: must never be published.
      return "finished anyway";
    }, { concurrency: 1 });

    const running = cortex.submit(TOPIC, "a", {
      jobId: "run-1",
      timeoutMs: 30_000,
    });
    await eventually(() => started.includes("run-1"), { what: "run-1 runs" });
    // Behind it: held by the worker (core) or left in the stream (durable).
    const waiting = cortex.submit(TOPIC, "b", {
      jobId: "wait-1",
      timeoutMs: 30_000,
    });
    await eventually(async () => {
      const res = await fetch(`${url}/api/jobs/wait-1`);
      await res.body?.cancel();
      return res.status === 200;
    }, { what: "wait-1 held by the scheduler" });

    const cancelWaiting = await post(url, "/api/jobs/wait-1/cancel");
    assertEquals(cancelWaiting.status, 200, await cancelWaiting.clone().text());
    assertEquals((await cancelWaiting.json()).status, "ok");
    const cancelRunning = await post(url, "/api/jobs/run-1/cancel", "");
    assertEquals(cancelRunning.status, 200, await cancelRunning.clone().text());
    await cancelRunning.body?.cancel();

    assertEquals((await running).status, "CANCELLED");
    assertEquals((await waiting).status, "CANCELLED");
    await eventually(() => reasons.has("run-1"), { what: "run-1 aborted" });
    assertEquals(reasons.get("run-1"), "job run-1 was cancelled");

    // The worker goes on, and never starts the cancelled job.
    const after = await cortex.submit(TOPIC, "c", {
      jobId: "after-1",
      timeoutMs: 30_000,
    });
    assertEquals(after.status, "COMPLETED");
    assertEquals(started, ["run-1", "after-1"]);
    await eventually(() => results.seen.get("after-1"), {
      what: "after-1's result",
    });
    assertEquals(results.seen.get("run-1"), ["CANCELLED"]);
    assertEquals(results.seen.get("wait-1"), ["CANCELLED"]);

    const detail = await (await fetch(`${url}/api/jobs/run-1`)).json();
    assertEquals(detail.state, "CANCELLED");
    const again = await post(url, "/api/jobs/run-1/cancel");
    assertEquals(again.status, 409);
    assertMatch((await again.json()).error, /is CANCELLED already/);
    const done = await post(url, "/api/jobs/after-1/cancel");
    assertEquals(done.status, 409);
    assertMatch((await done.json()).error, /is COMPLETED already/);
    const unknown = await post(url, "/api/jobs/no-such-job/cancel");
    assertEquals(unknown.status, 404);
    await unknown.body?.cancel();
  });

  Deno.test(`drain (${mode}): a drained worker finishes its job and takes no new ones while another does; resumed, it takes them again`, async () => {
    await using nats = await startNatsServer();
    const { scheduler, url } = await startScheduler(nats, mode);
    await using _scheduler = scheduler;
    await using cortex = await connect({ servers: nats.url, durability: mode });
    const ran: Record<string, string[]> = { first: [], second: [] };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => release = resolve);
    const handler = (name: string) => async (job: Job) => {
      ran[name].push(job.id);
      if (job.id === "held") await gate;
      return name;
    };
    await cortex.worker(TOPIC, handler("first"), { id: "first" });
    const held = cortex.submit(TOPIC, "x", {
      jobId: "held",
      timeoutMs: 30_000,
    });
    await eventually(() => ran.first.includes("held"), { what: "held runs" });
    await eventually(async () => {
      const res = await fetch(`${url}/api/workers`);
      const body = await res.json();
      return body.workers.some((w: { workerId: string }) =>
        w.workerId === "first"
      );
    }, { what: "first listed" });

    const drain = await post(url, "/api/workers/first/drain");
    assertEquals(drain.status, 200, await drain.clone().text());
    await drain.body?.cancel();
    await eventually(async () => {
      const body = await (await fetch(`${url}/api/workers`)).json();
      return body.workers.find((w: { workerId: string }) =>
        w.workerId === "first"
      )?.state === "draining";
    }, { what: "first shown draining" });
    const twice = await post(url, "/api/workers/first/drain");
    assertEquals(twice.status, 409);
    await twice.body?.cancel();

    await cortex.worker(TOPIC, handler("second"), { id: "second" });
    // Let the second's first heartbeat reach the scheduler before submitting.
    await eventually(async () => {
      const body = await (await fetch(`${url}/api/workers`)).json();
      return body.workers.some((w: { workerId: string }) =>
        w.workerId === "second"
      );
    }, { what: "second listed" });
    const outcomes = await Promise.all(
      [1, 2, 3].map((i) =>
        cortex.submit(TOPIC, "y", { jobId: `new-${i}`, timeoutMs: 30_000 })
      ),
    );
    assertEquals(outcomes.map((o) => o.text()), ["second", "second", "second"]);
    release();
    const first = await held;
    assertEquals([first.status, first.text()], ["COMPLETED", "first"]);
    assertEquals(ran.first, ["held"]);

    const resume = await post(
      url,
      "/api/workers/first/drain",
      '{"resume": true}',
    );
    assertEquals(resume.status, 200, await resume.clone().text());
    await resume.body?.cancel();
    const unknown = await post(url, "/api/workers/nobody/drain");
    assertEquals(unknown.status, 404);
    await unknown.body?.cancel();
    const bad = await post(url, "/api/workers/first/drain", '{"resume": 1}');
    assertEquals(bad.status, 400);
    await bad.body?.cancel();
    // Resumed: it takes jobs again (the pool shares them).
    await eventually(async () => {
      const o = await cortex.submit(TOPIC, "z", { timeoutMs: 30_000 });
      return o.text() === "first";
    }, { what: "first takes a job again", timeoutMs: 20_000 });
    assertOk(ran.first.length > 1);
  });
}

Deno.test("cancel (jetstream): a job cancelled while it waits in the work stream with no worker is never started by a worker that comes later", async () => {
  await using nats = await startNatsServer();
  const { scheduler, url } = await startScheduler(nats, "jetstream");
  await using _scheduler = scheduler;
  await using results = await watchResults(nats.url);
  await using cortex = await connect({
    servers: nats.url,
    durability: "jetstream",
  });
  const early = cortex.submit(TOPIC, "x", {
    jobId: "early-1",
    timeoutMs: 30_000,
  });
  await eventually(async () => {
    const res = await fetch(`${url}/api/jobs/early-1`);
    return res.ok && (await res.json()).state === "DISPATCHED";
  }, { what: "early-1 stored in the work stream" });
  const cancel = await post(url, "/api/jobs/early-1/cancel");
  assertEquals(cancel.status, 200, await cancel.clone().text());
  await cancel.body?.cancel();
  assertEquals((await early).status, "CANCELLED");

  const started: string[] = [];
  await cortex.worker(TOPIC, (job) => {
    started.push(job.id);
    return "done";
  });
  const later = await cortex.submit(TOPIC, "y", {
    jobId: "later-1",
    timeoutMs: 30_000,
  });
  assertEquals(later.status, "COMPLETED");
  assertEquals(started, ["later-1"]);
  assertEquals(results.seen.get("early-1"), ["CANCELLED"]);
  const detail = await (await fetch(`${url}/api/jobs/early-1`)).json();
  assertEquals(detail.state, "CANCELLED");
});
