/**
 * Dead letters and bulk actions against real processes: nats-server, the
 * scheduler in durable mode (`CORTEX_DURABILITY=jetstream`, a dashboard
 * token) and the echo worker failing every job (`CORTEX_ECHO_FAIL_RATE=1`)
 * then none. The rules of every new route (token, same origin, content
 * type), a dry run's count against the search's, stop, discard surviving a
 * scheduler restart, a group retried to completion, and the audit log.
 */
import { create } from "@bufbuild/protobuf";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { JobRequestSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import { encodePacket, packet } from "../../src/bus/codec.ts";
import { SUBMIT } from "../../src/bus/subjects.ts";
import {
  type AuditResponse,
  type BulkProgress,
  type BulkResponse,
  type DeadLettersResponse,
  type JobsResponse,
  JobState,
} from "../../src/contract/mod.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { LedgerStore } from "../../src/scheduler/ledger_store.ts";
import type { LedgerEntry } from "../../src/scheduler/ledger.ts";
import { assertEquals, assertOk, eventually } from "../assert.ts";
import { dashboardUrl, startTask } from "../processes.ts";
import { CANCEL_NOT_AVAILABLE } from "../../src/dashboard/bulk_routes.ts";

const TOKEN = "dead-letters-test-token-0123456789";
const JOBS = 12;
/** Dead letters of a topic no worker takes: enough that a stop lands mid-run. */
const IDLE = 1500;
const IDLE_TOPIC = "job.idle";

/** A dead letter of IDLE_TOPIC as the ledger keeps it. */
function idleEntry(i: number, now: number): LedgerEntry {
  const at = now - 60_000 + i;
  return {
    v: 1,
    jobId: `idle-${i}`,
    traceId: crypto.randomUUID().replaceAll("-", ""),
    topic: IDLE_TOPIC,
    priority: 0,
    submitter: "test",
    contextPtr: "",
    adapterId: "",
    envVars: {},
    payloadBytes: 0,
    payloadPreview: "",
    state: JobState.FAILED,
    subject: `cortex.work.${IDLE_TOPIC}`,
    maxAttempts: 1,
    attempts: [],
    workerId: "gone",
    executionMs: 1,
    resultPtr: "",
    outputBytes: 0,
    output: "",
    error: `idle worker gone ${i}`,
    deadLettered: true,
    duplicates: 0,
    submitSeq: 0,
    change: "final",
    submittedAt: at,
    dispatchedAt: at + 1,
    finishedAt: at + 2,
    deadline: at + 60_000,
  };
}

function submission(jobId: string): Uint8Array {
  return encodePacket(packet({
    case: "jobRequest",
    value: create(JobRequestSchema, {
      jobId,
      topic: "job.echo",
      payload: new TextEncoder().encode(`payload ${jobId}`),
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

function scheduler(natsUrl: string) {
  return startTask("scheduler", [], {
    NATS_URL: natsUrl,
    CORTEX_DURABILITY: "jetstream",
    CORTEX_DASHBOARD_PORT: "0",
    CORTEX_DASHBOARD_TOKEN: TOKEN,
    CORTEX_MAX_ATTEMPTS: "2",
  });
}

async function servingUrl(
  process: ReturnType<typeof scheduler>,
): Promise<string> {
  await process.waitFor(/serving sys\.job\.submit/, 60_000);
  return await dashboardUrl(process);
}

const auth = { authorization: `Bearer ${TOKEN}` };

async function get<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: auth });
  assertEquals(res.status, 200, `GET ${url}: ${await res.clone().text()}`);
  return await res.json();
}

function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

async function status(res: Promise<Response>): Promise<number> {
  const r = await res;
  await r.body?.cancel();
  return r.status;
}

Deno.test("dead letters and bulk actions: rules, dry run, stop, discard kept across a restart, group retry completes, audit", async () => {
  await using nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  const js = jetstream(nc);
  // Written before the scheduler starts: it reads the ledger whole.
  const ledger = await LedgerStore.open(js, {
    historyMs: 86_400_000,
    replicas: 1,
  });
  const now = Date.now();
  for (let i = 0; i < IDLE; i += 500) {
    await Promise.all(
      Array.from(
        { length: 500 },
        (_, k) => ledger.create(idleEntry(i + k, now)),
      ),
    );
  }
  let sched = scheduler(nats.url);
  let url = await servingUrl(sched);
  try {
    const failing = echoWorker(nats.url, "1");
    await failing.waitFor(/taking job\.echo from stream/, 60_000);
    for (let i = 0; i < JOBS; i++) {
      await js.publish(SUBMIT, submission(`dl-${i}`), { msgID: `dl-${i}` });
    }
    const listed = await eventually(async () => {
      const d = await get<DeadLettersResponse>(`${url}/api/dead-letters`);
      return d.total === JOBS + IDLE ? d : undefined;
    }, { what: `${JOBS + IDLE} dead letters`, timeoutMs: 60_000 });
    // Two groups, largest first: "idle worker gone #" and the echo failures.
    assertEquals(listed.groups.length, 2, JSON.stringify(listed.groups));
    assertEquals(listed.groups[0].error, "idle worker gone #");
    assertEquals(listed.groups[0].count, IDLE);
    const group = listed.groups[1];
    assertEquals(group.count, JOBS);
    assertEquals(group.topics, ["job.echo"]);
    assertEquals(group.jobs[0].attempts.length, 2);
    assertOk(group.jobs[0].attempts.every((a) => a.workerId !== ""));

    // The rules of each new write route.
    const routes = [
      "/api/jobs/bulk",
      `/api/dead-letters/${group.id}/retry`,
      `/api/dead-letters/${group.id}/discard`,
      "/api/jobs/dl-0/discard",
      "/api/bulk/none/stop",
    ];
    const dry = {
      action: "retry",
      filter: { status: ["FAILED"] },
      dryRun: true,
    };
    for (const route of routes) {
      assertEquals(
        await status(fetch(`${url}${route}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(dry),
        })),
        401,
        `${route} without the token`,
      );
      assertEquals(
        await status(
          post(`${url}${route}`, dry, { "content-type": "text/plain" }),
        ),
        415,
        `${route} as text`,
      );
      assertEquals(
        await status(
          post(`${url}${route}`, dry, { origin: "http://evil.example" }),
        ),
        403,
        `${route} cross-origin`,
      );
    }
    assertEquals(await status(fetch(`${url}/api/dead-letters`)), 401);
    assertEquals(await status(fetch(`${url}/api/bulk`)), 401);

    // A dry run counts what the search lists, and touches nothing.
    const filter = {
      status: ["FAILED"],
      topic: "job.echo",
      error: "SIMULATED",
    };
    const counted = await (await post(`${url}/api/jobs/bulk`, {
      action: "retry",
      filter,
      dryRun: true,
    })).json() as BulkResponse;
    const searched = await get<JobsResponse>(
      `${url}/api/jobs?status=FAILED&topic=job.echo&limit=1000`,
    );
    const withError = searched.jobs.filter((j) =>
      j.error.toLowerCase().includes("simulated")
    );
    assertEquals(counted.matched, withError.length);
    assertEquals(
      counted.matched,
      JOBS,
      JSON.stringify(searched.jobs.map((j) => j.error)),
    );
    assertEquals(counted.bulk, undefined);
    // Cancel: 501 while the scheduler offers no cancel; once it does, the
    // same count as retry's.
    const cancel = await post(`${url}/api/jobs/bulk`, {
      action: "cancel",
      filter,
      dryRun: true,
    });
    const cancelBody = await cancel.json();
    if (cancel.status === 501) {
      assertEquals(cancelBody.error, CANCEL_NOT_AVAILABLE);
    } else {
      assertEquals([cancel.status, cancelBody.matched], [200, JOBS]);
    }

    // Discard one; it stays discarded after the scheduler restarts.
    const discard = await post(`${url}/api/jobs/dl-0/discard`, {});
    assertEquals(discard.status, 200, await discard.clone().text());
    await discard.body?.cancel();
    assertEquals(await status(post(`${url}/api/jobs/dl-0/discard`, {})), 409);
    await sched.stop();
    sched = scheduler(nats.url);
    url = await servingUrl(sched);
    const after = await eventually(async () => {
      const d = await get<DeadLettersResponse>(`${url}/api/dead-letters`);
      return d.total === JOBS - 1 + IDLE ? d : undefined;
    }, { what: "the discard kept across the restart", timeoutMs: 30_000 });
    assertOk(after.groups[1].jobs.every((j) => j.jobId !== "dl-0"));

    // A bulk retry stopped mid-run: it says so, and nothing runs after.
    const idle = await (await post(`${url}/api/jobs/bulk`, {
      action: "retry",
      filter: { topic: IDLE_TOPIC },
      dryRun: false,
    })).json() as BulkResponse;
    assertEquals(idle.matched, IDLE);
    await eventually(async () => {
      const p = await get<BulkProgress>(`${url}${idle.bulk!.href}`);
      return p.done > 0 || undefined;
    }, { what: "the idle bulk retry under way" });
    const halted = await post(`${url}${idle.bulk!.href}/stop`, {});
    assertEquals(halted.status, 200);
    const halt = await halted.json() as BulkProgress;
    assertEquals(halt.state, "stopped");
    assertOk(halt.done < IDLE, `stopped after ${halt.done} of ${IDLE}`);
    await new Promise((r) => setTimeout(r, 500));
    assertEquals(
      (await get<BulkProgress>(`${url}${idle.bulk!.href}`)).done,
      halt.done,
    );
    const idleLeft = await (await post(`${url}/api/jobs/bulk`, {
      action: "retry",
      filter: { topic: IDLE_TOPIC, deadLettered: true },
      dryRun: true,
    })).json() as BulkResponse;
    assertEquals(idleLeft.matched, IDLE - halt.succeeded);

    // A bulk retry by filter, stopped: it ends, and nothing runs after.
    const started = await (await post(`${url}/api/jobs/bulk`, {
      action: "retry",
      filter: { status: ["FAILED"], topic: "job.echo", deadLettered: true },
      dryRun: false,
    })).json() as BulkResponse;
    assertEquals(started.matched, JOBS - 1);
    assertOk(started.bulk);
    const stop = await post(`${url}${started.bulk.href}/stop`, {});
    assertEquals(stop.status, 200);
    const stopped = await stop.json() as BulkProgress;
    assertOk(["stopped", "finished"].includes(stopped.state), stopped.state);
    const later = await get<BulkProgress>(`${url}${started.bulk.href}`);
    assertEquals(later.done, stopped.done);
    await failing.stop();

    // Each retried job fails again on the failing worker (now gone) or
    // waits; with a healthy worker, a group retry completes every one.
    await using healthy = echoWorker(nats.url, "0");
    await healthy.waitFor(/taking job\.echo from stream/, 60_000);
    const retried = new Set(
      (await get<JobsResponse>(`${url}/api/jobs?topic=job.echo&limit=1000`))
        .jobs
        .filter((j) => j.state !== "FAILED").map((j) => j.jobId),
    );
    const current = await eventually(async () => {
      const d = await get<DeadLettersResponse>(`${url}/api/dead-letters`);
      return d.groups.find((g) => g.topics.includes("job.echo"));
    }, { what: "a dead-letter group of job.echo", timeoutMs: 30_000 });
    const groupRetry =
      await (await post(`${url}/api/dead-letters/${current.id}/retry`, {}))
        .json() as BulkResponse;
    assertEquals(groupRetry.matched + retried.size, JOBS - 1);
    await eventually(async () => {
      const jobs = await get<JobsResponse>(
        `${url}/api/jobs?status=COMPLETED&limit=1000`,
      );
      return jobs.jobs.length === JOBS - 1 || undefined;
    }, { what: "every retried job completed", timeoutMs: 60_000 });
    const none = await get<DeadLettersResponse>(`${url}/api/dead-letters`);
    assertEquals(none.total, IDLE - halt.succeeded);
    assertOk(none.groups.every((g) => !g.topics.includes("job.echo")));

    const audit = await get<AuditResponse>(`${url}/api/audit`);
    const actions = audit.entries.map((e) => e.action);
    for (const a of ["bulk retry", "bulk stop", "dead letters retry"]) {
      assertOk(actions.includes(a), `audit has ${a}: ${actions.join(", ")}`);
    }
    const entry = audit.entries.find((e) => e.action === "bulk retry")!;
    assertEquals(entry.count, JOBS - 1);
    assertEquals(entry.filter, {
      status: ["FAILED"],
      topic: "job.echo",
      deadLettered: true,
    });
    assertOk(entry.from.address.startsWith("127.0.0.1"), entry.from.address);
  } finally {
    await nc.close();
    await sched.stop();
  }
});
