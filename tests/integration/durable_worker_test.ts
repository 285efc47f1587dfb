/**
 * The echo worker in durable mode over a real nats-server, started as the
 * README starts it. The test stands in for the scheduler: it makes the
 * streams, publishes jobs to the work stream, and reads the workers'
 * attempt reports from the attempt stream.
 */
import { create } from "@bufbuild/protobuf";
import {
  AckPolicy,
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import {
  type Heartbeat,
  JobRequestSchema,
  type JobResult,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { decodePacket, encodePacket, packet } from "../../src/bus/codec.ts";
import { heartbeatSubject, RESULT } from "../../src/bus/subjects.ts";
import {
  ATTEMPT_STREAM,
  ensureStreams,
  WORK_STREAM,
  workConsumer,
  workMessageId,
  workSubject,
} from "../../src/bus/durable/layout.ts";
import { SIMULATED_FAILURE } from "../../src/worker/echo.ts";
import {
  type NatsServer,
  startNatsServer,
} from "../../scripts/support/nats_server.ts";
import { assertEquals, assertOk, eventually } from "../assert.ts";
import { Child } from "../../scripts/support/child.ts";
import { denoArgs, launchEnv } from "../../scripts/permissions.ts";
import { startTask, type TaskProcess } from "../processes.ts";

const TOPIC = "job.echo";
const STREAMS = { replicas: 1, dedupeWindowMs: 120_000, historyMs: 3_600_000 };
const FAST_WORK = { CORTEX_ECHO_MIN_MS: "0", CORTEX_ECHO_MAX_MS: "0" };

/** A test client: the streams' manager, job publishing, and every attempt report. */
async function scheduler(nats: NatsServer, { streams = true } = {}) {
  const nc: NatsConnection = await connect({ servers: nats.url });
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const js: JetStreamClient = jetstream(nc);
  if (streams) await ensureStreams(jsm, STREAMS);
  const reports: JobResult[] = [];
  const coreResults: JobResult[] = [];
  const heartbeats: Heartbeat[] = [];
  nc.subscribe(RESULT, {
    callback: (_e, msg) => {
      const d = decodePacket(msg.data);
      if (d.ok && d.packet.payload.case === "jobResult") {
        coreResults.push(d.packet.payload.value);
      }
    },
  });
  nc.subscribe(heartbeatSubject("echo"), {
    callback: (_e, msg) => {
      const d = decodePacket(msg.data);
      if (d.ok && d.packet.payload.case === "heartbeat") {
        heartbeats.push(d.packet.payload.value);
      }
    },
  });
  let reading: Promise<void> | undefined;
  let stopReading: (() => Promise<unknown>) | undefined;
  /** Starts collecting attempt reports (once the streams exist). */
  const readReports = async () => {
    await jsm.consumers.add(ATTEMPT_STREAM, {
      durable_name: "test",
      ack_policy: AckPolicy.Explicit,
    });
    const consumer = await js.consumers.get(ATTEMPT_STREAM, "test");
    const messages = await consumer.consume({ max_messages: 100 });
    stopReading = () => messages.close();
    reading = (async () => {
      for await (const m of messages) {
        const d = decodePacket(m.data);
        if (d.ok && d.packet.payload.case === "jobResult") {
          reports.push(d.packet.payload.value);
        }
        m.ack();
      }
    })();
  };
  if (streams) await readReports();
  return {
    nc,
    jsm,
    reports,
    coreResults,
    heartbeats,
    readReports,
    /** Dispatches a job as the scheduler would. */
    async dispatch(jobId: string, maxAttempts = 3, payload = jobId) {
      await js.publish(
        workSubject(TOPIC),
        encodePacket(packet({
          case: "jobRequest",
          value: create(JobRequestSchema, {
            jobId,
            topic: TOPIC,
            maxAttempts,
            payload: new TextEncoder().encode(payload),
          }),
        }, { senderId: "test", traceId: `t-${jobId}` })),
        { msgID: workMessageId(jobId) },
      );
    },
    /** The reports of `jobId`, in attempt order. */
    of(jobId: string): JobResult[] {
      return reports.filter((r) => r.jobId === jobId).sort((a, b) =>
        a.attempts - b.attempts
      );
    },
    consumerInfo: () => jsm.consumers.info(WORK_STREAM, workConsumer(TOPIC)),
    async [Symbol.asyncDispose]() {
      await stopReading?.();
      await reading;
      await nc.close();
    },
  };
}

/** Starts a durable echo worker and waits until it serves. */
async function durableWorker(
  nats: NatsServer,
  env: Record<string, string> = {},
  { wait = true } = {},
): Promise<TaskProcess> {
  const worker = startTask("worker:echo", [], {
    NATS_URL: nats.url,
    CORTEX_DURABILITY: "jetstream",
    ...FAST_WORK,
    ...env,
  });
  if (wait) await worker.waitFor(/taking job\.echo from stream CORTEX_WORK/);
  return worker;
}

/**
 * A durable echo worker started as the launcher starts it (`deno run` with
 * its permissions, no `deno task` above it), so a SIGKILL hits the worker
 * itself, mid-job, with no chance to hand its job back.
 */
async function killableWorker(
  nats: NatsServer,
  env: Record<string, string>,
): Promise<{ child: Child; workerId: string }> {
  const child = new Child(
    "worker",
    "deno",
    denoArgs(
      "worker:echo",
      launchEnv((n) => n === "NATS_URL" ? nats.url : undefined),
    ),
    { env: { NATS_URL: nats.url, CORTEX_DURABILITY: "jetstream", ...env } },
  );
  const line = await child.waitFor(/taking job\.echo from stream/);
  return { child, workerId: line.match(/echo-\w+/)![0] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("every job is reported once, COMPLETED at attempt 1; nothing on sys.job.result; heartbeats say durable", async () => {
  await using nats = await startNatsServer();
  await using s = await scheduler(nats);
  await using worker = await durableWorker(nats, {
    CORTEX_WORKER_CONCURRENCY: "4",
    CORTEX_HEARTBEAT_MS: "200",
  });
  assertOk(worker.lines.some((l) => /durability: jetstream$/.test(l)));

  const ids = Array.from({ length: 30 }, (_, i) => `ok-${i}`);
  for (const id of ids) await s.dispatch(id);
  await eventually(() => s.reports.length >= ids.length, {
    what: "30 reports",
  });
  await sleep(500); // room for a repeat, if there were one
  assertEquals(s.reports.length, ids.length);
  for (const id of ids) {
    const [report] = s.of(id);
    assertEquals(
      [report.status, report.attempts, new TextDecoder().decode(report.output)],
      [JobStatus.COMPLETED, 1, id],
    );
  }
  assertEquals(s.coreResults.length, 0);
  assertOk(s.heartbeats.length > 0 && s.heartbeats.every((h) => h.durable));
  const info = await s.consumerInfo();
  assertEquals([info.num_pending, info.num_ack_pending], [0, 0]);
});

Deno.test("a job that fails every attempt is reported exactly max_attempts times, the last final", async () => {
  await using nats = await startNatsServer();
  await using s = await scheduler(nats);
  await using _worker = await durableWorker(nats, {
    CORTEX_ECHO_FAIL_RATE: "1",
    CORTEX_RETRY_BASE_MS: "100",
    CORTEX_RETRY_MAX_MS: "200",
  });
  await s.dispatch("flaky", 3);
  await eventually(() => s.of("flaky").length >= 3, {
    what: "three attempts of flaky",
  });
  await sleep(1_000); // a fourth attempt would come within the retry delay
  const reports = s.of("flaky");
  assertEquals(reports.map((r) => r.attempts), [1, 2, 3]);
  for (const r of reports) {
    assertEquals([r.status, r.error], [JobStatus.FAILED, SIMULATED_FAILURE]);
  }
  const stream = await s.jsm.streams.info(WORK_STREAM);
  assertEquals(stream.state.messages, 0); // acked after the last attempt
});

Deno.test("a worker killed mid-job: another worker gets the job and reports it within 10 s", async () => {
  await using nats = await startNatsServer();
  await using s = await scheduler(nats);
  const doomed = await killableWorker(nats, {
    CORTEX_ECHO_MIN_MS: "60000",
    CORTEX_ECHO_MAX_MS: "60000",
  });
  await using _doomed = doomed.child;
  await s.dispatch("orphan");
  await eventually(async () => (await s.consumerInfo()).num_ack_pending === 1, {
    what: "the job taken by the first worker",
  });
  await using _rescuer = await durableWorker(nats); // default ack wait: 5 s

  const killedAt = performance.now();
  doomed.child.kill("SIGKILL");
  const report = await eventually(
    () => s.of("orphan")[0],
    {
      timeoutMs: 10_000,
      what: "the orphan job reported by the second worker",
    },
  );
  const ms = Math.round(performance.now() - killedAt);
  console.log(`job of a killed worker reported ${ms} ms after the kill`);
  assertEquals(report.status, JobStatus.COMPLETED);
  assertEquals(report.attempts, 2);
  assertOk(report.workerId !== doomed.workerId, report.workerId);
});

Deno.test("a job longer than the ack wait keeps its lease: reported once, never redelivered", async () => {
  await using nats = await startNatsServer();
  await using s = await scheduler(nats);
  await using _worker = await durableWorker(nats, {
    CORTEX_ACK_WAIT_MS: "1000",
    CORTEX_ECHO_MIN_MS: "3500",
    CORTEX_ECHO_MAX_MS: "3500",
  });
  await s.dispatch("long");
  await eventually(() => s.of("long").length > 0, {
    what: "the long job reported",
  });
  await sleep(1_500); // a redelivery would be due within an ack wait
  const reports = s.of("long");
  assertEquals(reports.map((r) => [r.status, r.attempts]), [[
    JobStatus.COMPLETED,
    1,
  ]]);
  const info = await s.consumerInfo();
  assertEquals([info.num_redelivered, info.num_ack_pending], [0, 0]);
  assertEquals(info.config.ack_wait, 1_000 * 1_000_000);
});

Deno.test("a worker started before the streams exist waits, then serves once they appear", async () => {
  await using nats = await startNatsServer();
  await using s = await scheduler(nats, { streams: false });
  await using worker = await durableWorker(nats, {}, { wait: false });
  await worker.waitFor(/waiting for stream CORTEX_WORK/);
  await sleep(500); // still waiting, quietly
  assertEquals(
    worker.lines.filter((l) => /waiting for stream/.test(l)).length,
    1,
  );

  await ensureStreams(s.jsm, STREAMS);
  const madeAt = performance.now();
  await worker.waitFor(/taking job\.echo from stream CORTEX_WORK/, 5_000);
  console.log(
    `serving ${
      Math.round(performance.now() - madeAt)
    } ms after the streams appeared`,
  );
  await s.readReports();
  await s.dispatch("early");
  await eventually(() => s.of("early").length === 1, {
    what: "the job reported",
  });
  assertEquals(s.of("early")[0].status, JobStatus.COMPLETED);
});

Deno.test("a worker of concurrency 2 never holds more than 2 unacknowledged jobs", async () => {
  await using nats = await startNatsServer();
  await using s = await scheduler(nats);
  await using _worker = await durableWorker(nats, {
    CORTEX_WORKER_CONCURRENCY: "2",
    CORTEX_ECHO_MIN_MS: "300",
    CORTEX_ECHO_MAX_MS: "300",
  });
  for (let i = 0; i < 8; i++) await s.dispatch(`slot-${i}`);
  let most = 0;
  for (let polls = 0; polls < 400 && s.reports.length < 8; polls++) {
    const info = await s.consumerInfo();
    most = Math.max(most, info.num_ack_pending);
    await sleep(20);
  }
  assertEquals(s.reports.length, 8);
  assertEquals(most, 2); // two at once, never more
});

Deno.test("a job whose worker died on its only attempt runs again: a lost delivery is not the job's failure", async () => {
  await using nats = await startNatsServer();
  await using s = await scheduler(nats);
  // A worker that takes the job and dies: its one allowed attempt is used.
  const doomed = await killableWorker(nats, {
    CORTEX_ACK_WAIT_MS: "1000",
    CORTEX_ECHO_MIN_MS: "60000",
    CORTEX_ECHO_MAX_MS: "60000",
  });
  await using _doomed = doomed.child;
  await s.dispatch("once", 1);
  await eventually(async () => (await s.consumerInfo()).num_ack_pending === 1, {
    what: "the job taken",
  });
  doomed.child.kill("SIGKILL");
  await using _next = await durableWorker(nats, { CORTEX_ACK_WAIT_MS: "1000" });
  const report = await eventually(() => s.of("once")[0], {
    what: "the job reported",
  });
  assertEquals(
    [report.status, report.attempts, report.error],
    [JobStatus.COMPLETED, 2, ""],
  );
  await eventually(
    async () => (await s.jsm.streams.info(WORK_STREAM)).state.messages === 0,
    { what: "the job acked" },
  );
});

Deno.test("SIGTERM in durable mode: the job in flight is reported and acked, the next left for others, then it leaves", async () => {
  await using nats = await startNatsServer();
  await using s = await scheduler(nats);
  await using worker = await durableWorker(nats, {
    CORTEX_ECHO_MIN_MS: "1000",
    CORTEX_ECHO_MAX_MS: "1000",
  });
  await s.dispatch("first");
  await s.dispatch("second");
  await eventually(async () => (await s.consumerInfo()).num_ack_pending === 1, {
    what: "the first job taken",
  });
  const status = await worker.stop("SIGTERM");
  assertEquals(status.code, 0);
  assertEquals(s.of("first").map((r) => [r.status, r.attempts]), [[
    JobStatus.COMPLETED,
    1,
  ]]);
  assertEquals(s.of("second").length, 0);
  const info = await s.consumerInfo();
  assertEquals([info.num_pending, info.num_ack_pending], [1, 0]);
  await eventually(() => s.heartbeats.some((h) => h.leaving && h.durable), {
    what: "the leaving heartbeat",
  });

  await using _next = await durableWorker(nats);
  const second = await eventually(() => s.of("second")[0], {
    what: "the second job reported by the next worker",
  });
  assertEquals([second.status, second.attempts], [JobStatus.COMPLETED, 1]);
});

Deno.test("without CORTEX_DURABILITY on a server without JetStream the worker says durability: core and takes the core topic", async () => {
  await using nats = await startNatsServer({ jetstream: false });
  await using worker = startTask("worker:echo", [], { NATS_URL: nats.url });
  await worker.waitFor(/taking job\.echo in queue group/);
  assertOk(worker.lines.some((l) => /durability: core$/.test(l)));
});

Deno.test("nats-server restarted: the durable worker pulls again and every job is reported", async () => {
  await using nats = await startNatsServer();
  await using s = await scheduler(nats);
  await using worker = await durableWorker(nats, {
    CORTEX_WORKER_CONCURRENCY: "4",
  });
  for (let i = 0; i < 10; i++) await s.dispatch(`before-${i}`);
  await eventually(() => s.reports.length === 10, { what: "10 reports" });

  await nats.restart();
  await worker.waitFor(/reconnected to NATS/, 15_000);
  await eventually(() => !s.nc.isClosed() && s.nc.info !== undefined, {
    what: "the test client back",
  });
  for (let i = 0; i < 10; i++) {
    await eventually(
      () => s.dispatch(`after-${i}`).then(() => true, () => false),
      {
        what: `job after-${i} dispatched`,
      },
    );
  }
  await eventually(() => s.reports.length >= 20, {
    timeoutMs: 15_000,
    what: "the 10 later jobs reported",
  });
  for (let i = 0; i < 10; i++) {
    assertEquals(s.of(`after-${i}`)[0].status, JobStatus.COMPLETED);
  }
});
