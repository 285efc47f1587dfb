/**
 * The operator's side of durable mode, with a real nats-server, the real
 * scheduler (`deno task scheduler`, CORTEX_DURABILITY=jetstream) and the
 * real echo worker: retry by hand (dashboard route and `submit --retry`),
 * the durable lines of /metrics, and a refused job's bounds.
 */
import { create } from "@bufbuild/protobuf";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { JobRequestSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import { decodePacket, encodePacket, packet } from "../../src/bus/codec.ts";
import { RESULT, SUBMIT } from "../../src/bus/subjects.ts";
import type { JobDetail, JobsResponse } from "../../src/contract/mod.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { assertEquals, assertOk, eventually } from "../assert.ts";
import { dashboardUrl, runTask, startTask } from "../processes.ts";

const TOPIC = "job.echo";

function submission(jobId: string, payload: string): Uint8Array {
  return encodePacket(packet({
    case: "jobRequest",
    value: create(JobRequestSchema, {
      jobId,
      topic: TOPIC,
      payload: new TextEncoder().encode(payload),
    }),
  }, { senderId: "test-client" }));
}

function echoWorker(url: string, failRate: string) {
  return startTask("worker:echo", [], {
    NATS_URL: url,
    CORTEX_DURABILITY: "jetstream",
    CORTEX_ECHO_MIN_MS: "0",
    CORTEX_ECHO_MAX_MS: "0",
    CORTEX_ECHO_FAIL_RATE: failRate,
    CORTEX_RETRY_BASE_MS: "10",
    CORTEX_RETRY_MAX_MS: "20",
  });
}

async function detail(url: string, id: string): Promise<JobDetail> {
  const res = await fetch(`${url}/api/jobs/${encodeURIComponent(id)}`);
  assertEquals(res.status, 200, `GET /api/jobs/${id}`);
  return await res.json();
}

function retry(url: string, id: string): Promise<Response> {
  return fetch(`${url}/api/jobs/${encodeURIComponent(id)}/retry`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
}

Deno.test("durable ops: a dead-lettered job retried by hand completes as new attempts of its id, its history kept; metrics show it", async () => {
  await using nats = await startNatsServer();
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DURABILITY: "jetstream",
    CORTEX_DASHBOARD_PORT: "0",
    CORTEX_MAX_ATTEMPTS: "2",
  });
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  const url = await dashboardUrl(scheduler);
  const nc = await connect({ servers: nats.url });
  try {
    const js = jetstream(nc);
    await using failing = echoWorker(nats.url, "1");
    await failing.waitFor(/taking job\.echo from stream/, 60_000);
    const payload = "x".repeat(3_000); // over the 1 KiB preview: resent whole
    await js.publish(SUBMIT, submission("r-1", payload), { msgID: "r-1" });
    await js.publish(SUBMIT, submission("ok-1", payload), { msgID: "ok-1" });
    const dead = await eventually(async () => {
      const d = await detail(url, "r-1");
      return d.deadLettered ? d : undefined;
    }, { what: "r-1 dead-lettered", timeoutMs: 30_000 });
    assertEquals(dead.state, "FAILED");
    assertEquals(dead.attempts.map((a) => a.attempt), [1, 2]);
    assertEquals(dead.retryable, true);
    await failing.stop();

    const listed: JobsResponse = await (await fetch(
      `${url}/api/jobs?deadLettered=true`,
    )).json();
    assertOk(listed.jobs.some((j) => j.jobId === "r-1"));
    assertOk(listed.jobs.every((j) => j.state === "FAILED"));

    // Results of r-1 from here on: exactly one, COMPLETED.
    const results: string[] = [];
    nc.subscribe(RESULT, {
      callback: (_e, msg) => {
        const d = decodePacket(msg.data);
        if (d.ok && d.packet.payload.case === "jobResult") {
          const r = d.packet.payload.value;
          if (r.jobId === "r-1") {
            results.push(`${r.status}:${r.attempts}:${r.output.length}`);
          }
        }
      },
    });
    await nc.flush();
    const res = await retry(url, "r-1");
    assertEquals(res.status, 200, await res.clone().text());
    const body = await res.json();
    assertEquals(body.status, "retried");
    assertEquals(body.firstAttempt, 3);
    assertEquals(body.maxAttempts, 4);
    // A second retry while it is DISPATCHED again is refused.
    const again = await retry(url, "r-1");
    assertEquals(again.status, 409);
    await again.body?.cancel();

    await using healthy = echoWorker(nats.url, "0");
    await healthy.waitFor(/taking job\.echo from stream/, 60_000);
    const done = await eventually(async () => {
      const d = await detail(url, "r-1");
      return d.state === "COMPLETED" ? d : undefined;
    }, { what: "r-1 completed after the retry", timeoutMs: 30_000 });
    assertEquals(done.attempts.map((a) => a.attempt), [1, 2, 3]);
    assertOk(done.attempts.length > 2, "more attempts than the first max");
    assertEquals(done.deadLettered, false);
    assertEquals(done.retriedByHand.length, 1);
    assertEquals(done.retriedByHand[0].state, "FAILED");
    assertEquals(done.retriedByHand[0].by, "dashboard");
    assertOk(
      done.history.some((s) => s.note.includes("retried by hand")),
      JSON.stringify(done.history),
    );
    assertEquals(done.result?.outputBytes, 3_000);
    await eventually(() => results.length > 0 || undefined, {
      what: "r-1's result",
    });
    assertEquals(results, ["1:3:3000"]);

    // Not in a final failed state now: 409; unknown: 404.
    const completed = await retry(url, "r-1");
    assertEquals(completed.status, 409);
    assertOk((await completed.json()).error.includes("COMPLETED"));
    const unknown = await retry(url, "no-such-job");
    assertEquals(unknown.status, 404);
    await unknown.body?.cancel();

    // The same rules through NATS: the submit CLI's --retry.
    const cli = await runTask("submit", ["--retry", "r-1"], {
      NATS_URL: nats.url,
    });
    assertEquals(cli.code, 1, cli.stderr);
    assertOk(cli.stderr.includes("COMPLETED"), cli.stderr);

    // /metrics in durable mode: the ledger's counters and the backlog.
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return /cortex_jobs_pending\{pool="echo"\} 0/.test(text)
        ? text
        : undefined;
    }, { what: "the backlog sampled", timeoutMs: 20_000 });
    assertOk(/cortex_jobs_dead_lettered_total [12]\n/.test(metrics), metrics);
    assertOk(/cortex_jobs_retried_total [1-9]/.test(metrics), metrics);
    assertOk(
      /cortex_jobs_oldest_pending_seconds\{pool="echo"\} 0\n/.test(metrics),
    );
    assertOk(/cortex_jobs_duplicate_deliveries_total \d+\n/.test(metrics));
    assertOk(/cortex_jobs_redelivered\{pool="echo"\} \d+\n/.test(metrics));
  } finally {
    await nc.close();
  }
});

Deno.test("durable ops: the backlog of a pool with no worker shows pending jobs and their age; submit --retry of a dead-lettered job starts it", async () => {
  await using nats = await startNatsServer();
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DURABILITY: "jetstream",
    CORTEX_DASHBOARD_PORT: "0",
    CORTEX_MAX_ATTEMPTS: "1",
  });
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  const url = await dashboardUrl(scheduler);
  const nc = await connect({ servers: nats.url });
  try {
    const js = jetstream(nc);
    // The scheduler makes no work consumer; the worker does: start one
    // that fails, let it take one job, then stop it and queue two more.
    await using failing = echoWorker(nats.url, "1");
    await failing.waitFor(/taking job\.echo from stream/, 60_000);
    await js.publish(SUBMIT, submission("cli-1", "p"), { msgID: "cli-1" });
    await eventually(
      async () => (await detail(url, "cli-1")).deadLettered || undefined,
      {
        what: "cli-1 dead-lettered",
        timeoutMs: 30_000,
      },
    );
    await failing.stop();
    await js.publish(SUBMIT, submission("q-1", "p"), { msgID: "q-1" });
    await js.publish(SUBMIT, submission("q-2", "p"), { msgID: "q-2" });
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return /cortex_jobs_pending\{pool="echo"\} 2\n/.test(text) &&
          /cortex_jobs_oldest_pending_seconds\{pool="echo"\} (?!0\n)[\d.]+\n/
            .test(text)
        ? text
        : undefined;
    }, { what: "two jobs pending with an age", timeoutMs: 20_000 });
    assertOk(metrics.includes("cortex_jobs_dead_lettered_total 1\n"), metrics);

    const cli = await runTask("submit", ["--retry", "cli-1", "--json"], {
      NATS_URL: nats.url,
    });
    assertEquals(cli.code, 0, cli.stderr);
    const reply = JSON.parse(cli.stdout.trim());
    assertEquals(reply.status, "retried");
    assertEquals(reply.firstAttempt, 2);
    const d = await detail(url, "cli-1");
    assertEquals(d.state, "DISPATCHED");
    assertEquals(d.retriedByHand[0].by, "cortex-submit");
  } finally {
    await nc.close();
  }
});

Deno.test("durable ops: a job with a 100 KB id is refused with clipped fields, in the ledger, the log and its result", async () => {
  await using nats = await startNatsServer();
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DURABILITY: "jetstream",
    CORTEX_DASHBOARD_PORT: "0",
  });
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  const url = await dashboardUrl(scheduler);
  const nc = await connect({ servers: nats.url });
  try {
    const results: { jobId: string; status: number }[] = [];
    nc.subscribe(RESULT, {
      callback: (_e, msg) => {
        const d = decodePacket(msg.data);
        if (d.ok && d.packet.payload.case === "jobResult") {
          results.push(d.packet.payload.value);
        }
      },
    });
    await nc.flush();
    const id = "i".repeat(100_000);
    await jetstream(nc).publish(SUBMIT, submission(id, "p"), {
      msgID: "huge-id",
    });
    await eventually(() => results.length > 0 || undefined, {
      what: "the refusal's result",
      timeoutMs: 20_000,
    });
    assertEquals(results.length, 1);
    assertOk(results[0].jobId.length < 200, `${results[0].jobId.length}`);
    assertOk(results[0].jobId.endsWith("(100000 bytes)"), results[0].jobId);
    const line = await scheduler.waitFor(/refused:/);
    assertOk(line.length < 2_000, `a log line of ${line.length} characters`);
    const listed: JobsResponse = await (await fetch(`${url}/api/jobs`)).json();
    assertEquals(listed.jobs.length, 1);
    assertEquals(listed.jobs[0].jobId, results[0].jobId);
    assertEquals(listed.jobs[0].state, "FAILED");
  } finally {
    await nc.close();
  }
});
