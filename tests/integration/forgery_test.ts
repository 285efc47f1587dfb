/**
 * Forged results and heartbeats against a real `deno task scheduler` and a
 * real echo worker over a real nats-server (no auth, as core deployments
 * run): a plain NATS client that forges them changes nothing the
 * dashboard shows.
 */
import { create } from "@bufbuild/protobuf";
import { connect } from "@nats-io/transport-node";
import {
  HeartbeatSchema,
  JobResultSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { encodePacket, packet } from "../../src/bus/codec.ts";
import { RESULT } from "../../src/bus/subjects.ts";
import { assertEquals, assertMatch, eventually } from "../assert.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { freePort } from "../../scripts/support/ports.ts";
import { runTask, startTask } from "../processes.ts";

const FAST = {
  CORTEX_ECHO_MIN_MS: "0",
  CORTEX_ECHO_MAX_MS: "0",
  CORTEX_HEARTBEAT_MS: "300",
};

Deno.test("a forged COMPLETED result for an unknown job and a forged heartbeat for the live worker change nothing the dashboard shows", async () => {
  await using nats = await startNatsServer();
  const port = freePort();
  // Forged core results and heartbeats against the core scheduler.
  const env = { NATS_URL: nats.url, CORTEX_DURABILITY: "none", ...FAST };
  await using scheduler = startTask("scheduler", [], {
    ...env,
    CORTEX_DASHBOARD_PORT: String(port),
  });
  await scheduler.waitFor(/dashboard listening on/);
  const base = `http://127.0.0.1:${port}/`;
  await using worker = startTask("worker:echo", [], {
    ...env,
    CORTEX_WORKER_ID: "echo-real",
    CORTEX_WORKER_REGION: "eu-real",
  });
  await worker.waitFor(/taking job\.echo/);
  const submit = await runTask("submit", ["--count", "1"], env);
  assertEquals(submit.code, 0, submit.stderr);

  const metrics = async () => await (await fetch(`${base}metrics`)).text();
  const nc = await connect({ servers: nats.url });
  try {
    nc.publish(
      RESULT,
      encodePacket(packet({
        case: "jobResult",
        value: create(JobResultSchema, {
          jobId: "forged-job",
          status: JobStatus.COMPLETED,
          workerId: "echo-real",
          output: new TextEncoder().encode("pwned"),
        }),
      }, { senderId: "echo-real" })),
    );
    // The real worker's id, sender id and subject, but not its session:
    // first a takeover (another region and pool), then a departure.
    for (const leaving of [false, true]) {
      nc.publish(
        "sys.heartbeat.echo",
        encodePacket(packet({
          case: "heartbeat",
          value: create(HeartbeatSchema, {
            workerId: "echo-real",
            pool: "gpu",
            region: "forged-region",
            leaving,
            session: "forged-session",
          }),
        }, { senderId: "echo-real" })),
      );
    }
    await nc.flush();
    await eventually(async () => {
      const text = await metrics();
      return /cortex_results_rejected_total\{reason="unknown_job"\} 1\b/
        .test(text) && /cortex_heartbeats_rejected_total 2\b/.test(text);
    }, { what: "the forgeries counted" });
  } finally {
    await nc.close();
  }
  await scheduler.waitFor(/ignored a COMPLETED result for job forged-job/);
  await scheduler.waitFor(/ignored a heartbeat on sys\.heartbeat\.echo/);

  const jobs = await (await fetch(`${base}api/jobs?limit=1000`)).json();
  assertEquals(
    jobs.jobs.map((j: { state: string }) => j.state),
    ["COMPLETED"],
  );
  assertEquals(
    jobs.jobs.some((j: { jobId: string }) => j.jobId === "forged-job"),
    false,
  );
  const forged = await fetch(`${base}api/jobs/forged-job`);
  assertEquals(forged.status, 404);
  await forged.body?.cancel();
  const workers = await (await fetch(`${base}api/workers`)).json();
  assertEquals(workers.workers.length, 1);
  const [real] = workers.workers;
  assertEquals(
    [real.workerId, real.pool, real.region, real.state],
    ["echo-real", "echo", "eu-real", "online"],
  );
  assertMatch(await metrics(), /cortex_workers\{state="online"\} 1/);
});
