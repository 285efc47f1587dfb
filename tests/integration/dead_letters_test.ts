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
import type {
  AuditResponse,
  BulkProgress,
  BulkResponse,
  DeadLettersResponse,
  JobsResponse,
} from "../../src/contract/mod.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { assertEquals, assertOk, eventually } from "../assert.ts";
import { startTask } from "../processes.ts";

const TOKEN = "dead-letters-test-token-0123456789";
const JOBS = 12;

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

async function dashboardUrl(
  process: ReturnType<typeof scheduler>,
): Promise<string> {
  await process.waitFor(/serving sys\.job\.submit/, 60_000);
  return (await process.waitFor(/dashboard listening on/))
    .match(/http:\/\/[\d.:]+/)![0];
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
  let sched = scheduler(nats.url);
  let url = await dashboardUrl(sched);
  const nc = await connect({ servers: nats.url });
  try {
    const js = jetstream(nc);
    const failing = echoWorker(nats.url, "1");
    await failing.waitFor(/taking job\.echo from stream/, 60_000);
    for (let i = 0; i < JOBS; i++) {
      await js.publish(SUBMIT, submission(`dl-${i}`), { msgID: `dl-${i}` });
    }
    const listed = await eventually(async () => {
      const d = await get<DeadLettersResponse>(`${url}/api/dead-letters`);
      return d.total === JOBS ? d : undefined;
    }, { what: `${JOBS} dead letters`, timeoutMs: 60_000 });
    assertEquals(listed.groups.length, 1, JSON.stringify(listed.groups));
    const group = listed.groups[0];
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
    assertEquals(
      await status(
        post(`${url}/api/jobs/bulk`, {
          action: "cancel",
          filter,
          dryRun: true,
        }),
      ),
      501,
    );

    // Discard one; it stays discarded after the scheduler restarts.
    const discard = await post(`${url}/api/jobs/dl-0/discard`, {});
    assertEquals(discard.status, 200, await discard.clone().text());
    await discard.body?.cancel();
    assertEquals(await status(post(`${url}/api/jobs/dl-0/discard`, {})), 409);
    await sched.stop();
    sched = scheduler(nats.url);
    url = await dashboardUrl(sched);
    const after = await eventually(async () => {
      const d = await get<DeadLettersResponse>(`${url}/api/dead-letters`);
      return d.total === JOBS - 1 ? d : undefined;
    }, { what: "the discard kept across the restart", timeoutMs: 30_000 });
    assertOk(after.groups[0].jobs.every((j) => j.jobId !== "dl-0"));

    // A bulk retry by filter, stopped: it ends, and nothing runs after.
    const started = await (await post(`${url}/api/jobs/bulk`, {
      action: "retry",
      filter: { status: ["FAILED"], deadLettered: true },
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
      (await get<JobsResponse>(`${url}/api/jobs?limit=1000`)).jobs
        .filter((j) => j.state !== "FAILED").map((j) => j.jobId),
    );
    const current = await eventually(async () => {
      const d = await get<DeadLettersResponse>(`${url}/api/dead-letters`);
      return d.groups[0];
    }, { what: "a dead-letter group", timeoutMs: 30_000 });
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
    assertEquals(none.total, 0);

    const audit = await get<AuditResponse>(`${url}/api/audit`);
    const actions = audit.entries.map((e) => e.action);
    for (const a of ["bulk retry", "bulk stop", "dead letters retry"]) {
      assertOk(actions.includes(a), `audit has ${a}: ${actions.join(", ")}`);
    }
    const entry = audit.entries.find((e) => e.action === "bulk retry")!;
    assertEquals(entry.count, JOBS - 1);
    assertEquals(entry.filter, { status: ["FAILED"], deadLettered: true });
    assertOk(entry.from.address.startsWith("127.0.0.1"), entry.from.address);
  } finally {
    await nc.close();
    await sched.stop();
  }
});
