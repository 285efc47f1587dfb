/**
 * The scheduler in durable mode (`CORTEX_DURABILITY=jetstream`), as the
 * README starts it, over a real nats-server, with a stand-in durable worker
 * in the test: it pulls `work_job_2eecho` and reports each attempt on
 * `cortex.attempt` the way docs/durability.md says workers do.
 */
import { create } from "@bufbuild/protobuf";
import {
  AckPolicy,
  type ConsumerMessages,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { nanos } from "@nats-io/nats-core";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import {
  HeartbeatSchema,
  JobRequestSchema,
  type JobResult,
  JobResultSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { decodePacket, encodePacket, packet } from "../../src/bus/codec.ts";
import { RESULT, SUBMIT } from "../../src/bus/subjects.ts";
import {
  ATTEMPT_SUBJECT,
  attemptMessageId,
  isFinalAttempt,
  LEDGER_BUCKET,
  ledgerKey,
  SUBMIT_STREAM,
  WORK_STREAM,
  workConsumer,
  workSubject,
} from "../../src/bus/durable/layout.ts";
import { decodeEntry } from "../../src/scheduler/ledger.ts";
import type { JobDetail, JobsResponse } from "../../src/contract/mod.ts";
import {
  type NatsServer,
  startNatsServer,
} from "../../scripts/support/nats_server.ts";
import { Child } from "../../scripts/support/child.ts";
import { freePort } from "../../scripts/support/ports.ts";
import { assertEquals, assertOk, eventually } from "../assert.ts";
import { dashboardUrl, startTask, type TaskProcess } from "../processes.ts";

const TOPIC = "job.echo";

/** A scheduler in durable mode with its dashboard on a free port. */
async function startScheduler(
  nats: NatsServer,
  env: Record<string, string> = {},
): Promise<{ process: TaskProcess; url: string }> {
  const process = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DURABILITY: "jetstream",
    CORTEX_DASHBOARD_PORT: "0",
    ...env,
  });
  await process.waitFor(/serving sys\.job\.submit/, 60_000);
  return { process, url: await dashboardUrl(process) };
}

/** The stand-in durable worker: how often each job ran, and a way to stop. */
interface StandIn extends AsyncDisposable {
  runs: Map<string, number>;
}

async function standInWorker(
  url: string,
  { fail = () => false }: { fail?: (jobId: string) => boolean } = {},
): Promise<StandIn> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await eventually(() => jsm.streams.info(WORK_STREAM), {
    what: "the work stream",
    timeoutMs: 30_000,
  });
  const name = workConsumer(TOPIC);
  await jsm.consumers.add(WORK_STREAM, {
    durable_name: name,
    filter_subject: workSubject(TOPIC),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(5_000),
  });
  const js = jetstream(nc);
  const runs = new Map<string, number>();
  const messages: ConsumerMessages =
    await (await js.consumers.get(WORK_STREAM, name)).consume({
      max_messages: 64,
    });
  const beat = () =>
    nc.publish(
      "sys.heartbeat.echo",
      encodePacket(packet({
        case: "heartbeat",
        value: create(HeartbeatSchema, {
          workerId: "stand-in",
          pool: "echo",
          durable: true,
          maxParallelJobs: 64,
        }),
      }, { senderId: "stand-in" })),
    );
  beat();
  const beats = setInterval(beat, 1_000);
  const done = (async () => {
    for await (const m of messages) {
      const d = decodePacket(m.data);
      if (!d.ok || d.packet.payload.case !== "jobRequest") {
        m.term();
        continue;
      }
      const job = d.packet.payload.value;
      runs.set(job.jobId, (runs.get(job.jobId) ?? 0) + 1);
      const attempt = m.info.deliveryCount;
      const failed = fail(job.jobId);
      const report = create(JobResultSchema, {
        jobId: job.jobId,
        status: failed ? JobStatus.FAILED : JobStatus.COMPLETED,
        workerId: "stand-in",
        output: job.payload,
        error: failed ? `simulated failure ${attempt}` : "",
        attempts: attempt,
      });
      await js.publish(
        ATTEMPT_SUBJECT,
        encodePacket(packet({ case: "jobResult", value: report }, {
          senderId: "stand-in",
          traceId: d.packet.traceId,
        })),
        { msgID: attemptMessageId(job.jobId, attempt) },
      );
      if (isFinalAttempt(failed, attempt, job.maxAttempts)) m.ack();
      else m.nak(10);
    }
  })();
  return {
    runs,
    async [Symbol.asyncDispose]() {
      clearInterval(beats);
      messages.stop();
      await done.catch(() => {});
      await nc.close();
    },
  };
}

/** A client that keeps every result on `sys.job.result`. */
async function resultWatcher(url: string) {
  const nc: NatsConnection = await connect({ servers: url });
  const results = new Map<string, JobResult[]>();
  nc.subscribe(RESULT, {
    callback: (_e, msg) => {
      const d = decodePacket(msg.data);
      if (!d.ok || d.packet.payload.case !== "jobResult") return;
      const r = d.packet.payload.value;
      results.set(r.jobId, [...results.get(r.jobId) ?? [], r]);
    },
  });
  await nc.flush();
  return {
    nc,
    results,
    js: jetstream(nc),
    async [Symbol.asyncDispose]() {
      await nc.close();
    },
  };
}

function submission(jobId: string, payload = "hi"): Uint8Array {
  return encodePacket(packet({
    case: "jobRequest",
    value: create(JobRequestSchema, {
      jobId,
      topic: TOPIC,
      payload: new TextEncoder().encode(payload),
    }),
  }, { senderId: "test-client" }));
}

/**
 * The pid of the process under `pid` whose command line holds `needle`,
 * found with `ps` (reading /proc needs --allow-all here): the real
 * `deno run` behind `deno task scheduler`, to crash it.
 */
async function descendantPid(
  pid: number,
  needle: string,
): Promise<number | undefined> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-e", "-o", "pid=,ppid=,args="],
  }).output();
  const rows = new TextDecoder().decode(stdout).trim().split("\n").map(
    (line) => {
      const [, child, parent, args] = line.match(/^\s*(\d+)\s+(\d+)\s+(.*)$/)!;
      return { child: Number(child), parent: Number(parent), args };
    },
  );
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    for (const row of rows.filter((r) => r.parent === next)) {
      if (row.args.includes(needle)) return row.child;
      queue.push(row.child);
    }
  }
  return undefined;
}

async function stop(p: TaskProcess): Promise<void> {
  await p.stop();
}

Deno.test("durable: a submission stored in JetStream completes with one result, and the stream is emptied", async () => {
  await using nats = await startNatsServer();
  const scheduler = await startScheduler(nats);
  try {
    assertOk(
      scheduler.process.lines.some((l) => l.includes("durability: jetstream")),
    );
    await using worker = await standInWorker(nats.url);
    await using client = await resultWatcher(nats.url);
    const ack = await client.js.publish(SUBMIT, submission("a-1"), {
      msgID: "a-1",
    });
    assertEquals(ack.stream, SUBMIT_STREAM);
    const [result] = await eventually(() => client.results.get("a-1"), {
      what: "the result of a-1",
    });
    assertEquals(result.status, JobStatus.COMPLETED);
    assertEquals(result.attempts, 1);
    assertEquals(new TextDecoder().decode(result.output), "hi");
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(client.results.get("a-1")!.length, 1);
    assertEquals(worker.runs.get("a-1"), 1);
    const jsm = await jetstreamManager(client.nc);
    await eventually(
      async () => (await jsm.streams.info(SUBMIT_STREAM)).state.messages === 0,
      {
        what: "the submission acknowledged (removed from the work queue)",
      },
    );
    const detail: JobDetail = await (await fetch(
      `${scheduler.url}/api/jobs/a-1`,
    )).json();
    assertEquals(detail.state, "COMPLETED");
    assertEquals(detail.attempts.length, 1);
    assertEquals(detail.maxAttempts, 3);
  } finally {
    await stop(scheduler.process);
  }
});

Deno.test("durable: a core-published submission while no scheduler runs is taken when one starts", async () => {
  await using nats = await startNatsServer();
  const first = await startScheduler(nats); // makes the streams
  await stop(first.process);
  await using client = await resultWatcher(nats.url);
  client.nc.publish(SUBMIT, submission("b-1")); // core NATS, like the Go MVP's client
  await client.nc.flush();
  const jsm = await jetstreamManager(client.nc);
  await eventually(
    async () => (await jsm.streams.info(SUBMIT_STREAM)).state.messages === 1,
    {
      what: "the submission captured by the stream",
    },
  );
  await using _worker = await standInWorker(nats.url);
  const second = await startScheduler(nats);
  try {
    const [result] = await eventually(() => client.results.get("b-1"), {
      what: "the result of b-1",
      timeoutMs: 20_000,
    });
    assertEquals(result.status, JobStatus.COMPLETED);
  } finally {
    await stop(second.process);
  }
});

Deno.test("durable: one job id submitted again, within and after the dedupe window, runs once across two replicas", async () => {
  await using nats = await startNatsServer();
  const env = { CORTEX_DEDUPE_WINDOW_MS: "1000" };
  const one = await startScheduler(nats, env);
  const two = await startScheduler(nats, env);
  try {
    await using worker = await standInWorker(nats.url);
    await using client = await resultWatcher(nats.url);
    const first = await client.js.publish(SUBMIT, submission("c-1"), {
      msgID: "c-1",
    });
    const again = await client.js.publish(SUBMIT, submission("c-1"), {
      msgID: "c-1",
    });
    assertOk(!first.duplicate && again.duplicate, "the stream drops the copy");
    await eventually(() => client.results.get("c-1"), { what: "c-1 done" });
    // Past the stream's window, and on core NATS: the ledger drops them.
    await new Promise((r) => setTimeout(r, 1_200));
    const late = await client.js.publish(SUBMIT, submission("c-1"), {
      msgID: "c-1",
    });
    assertOk(!late.duplicate, "the window has passed");
    client.nc.publish(SUBMIT, submission("c-1"));
    // Each duplicate of a final job gets its result again, as in core mode.
    await eventually(() => client.results.get("c-1")!.length >= 3, {
      what: "the result sent again for each duplicate",
    });
    await new Promise((r) => setTimeout(r, 500));
    assertEquals(worker.runs.get("c-1"), 1);
    for (const r of client.results.get("c-1")!) {
      assertEquals(r.status, JobStatus.COMPLETED);
    }
    // Both replicas count from the ledger: one job, submitted, two duplicates.
    for (const replica of [one, two]) {
      await eventually(async () => {
        const text = await (await fetch(`${replica.url}/metrics`)).text();
        return text.includes("cortex_jobs_submitted_total 1\n") &&
          text.includes("cortex_jobs_duplicate_total 2\n");
      }, { what: `${replica.url}'s counters`, timeoutMs: 2_000 });
    }
  } finally {
    await Promise.all([stop(one.process), stop(two.process)]);
  }
});

Deno.test("durable: a job failing every attempt ends FAILED once, after 3 attempts, dead-lettered", async () => {
  await using nats = await startNatsServer();
  const scheduler = await startScheduler(nats);
  try {
    await using worker = await standInWorker(nats.url, { fail: () => true });
    await using client = await resultWatcher(nats.url);
    await client.js.publish(SUBMIT, submission("d-1"), { msgID: "d-1" });
    const [result] = await eventually(() => client.results.get("d-1"), {
      what: "the final result of d-1",
    });
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(client.results.get("d-1")!.length, 1);
    assertEquals(result.status, JobStatus.FAILED);
    assertEquals(result.attempts, 3);
    assertEquals(result.error, "simulated failure 3");
    assertEquals(worker.runs.get("d-1"), 3);
    const kv = await new Kvm(client.nc).open(LEDGER_BUCKET);
    const entry = decodeEntry((await kv.get(ledgerKey("d-1")))!.value)!;
    assertEquals(entry.state, "FAILED");
    assertOk(entry.deadLettered);
    assertEquals(
      entry.attempts.map((a) => a.error),
      [1, 2, 3].map((n) => `simulated failure ${n}`),
    );
  } finally {
    await stop(scheduler.process);
  }
});

Deno.test("durable: a scheduler killed (SIGKILL) mid-load of 200 jobs and restarted loses none and runs none twice", async () => {
  await using nats = await startNatsServer();
  let scheduler = await startScheduler(nats);
  try {
    await using worker = await standInWorker(nats.url);
    await using client = await resultWatcher(nats.url);
    const ids = Array.from({ length: 200 }, (_, i) => `e-${i}`);
    // Paced (about 2 s for the 200) so the kill lands mid-load however
    // fast the machine is.
    const publishing = (async () => {
      for (const id of ids) {
        await client.js.publish(SUBMIT, submission(id), { msgID: id });
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await eventually(() => client.results.size >= 20, {
      what: "some results before the kill",
    });
    const pid = await descendantPid(
      scheduler.process.pid,
      "src/bin/scheduler.ts",
    );
    assertOk(pid, "the scheduler's deno run process");
    Deno.kill(pid, "SIGKILL");
    await scheduler.process.status;
    const before = client.results.size;
    assertOk(before < ids.length, `the kill landed mid-load (${before})`);
    await publishing;
    const restarted = Date.now();
    scheduler = await startScheduler(nats);
    await eventually(() => client.results.size === ids.length, {
      what: "every job's result",
      timeoutMs: 30_000,
    });
    const repeated = ids.filter((id) => client.results.get(id)!.length > 1);
    console.log(
      `killed after ${before} results; all ${ids.length} in ${
        Date.now() - restarted
      } ms after the restart; results sent twice: ${repeated.length}`,
    );
    for (const id of ids) {
      assertEquals(worker.runs.get(id), 1, `${id} ran once`);
      assertOk(
        client.results.get(id)!.every((r) => r.status === JobStatus.COMPLETED),
        id,
      );
    }
    const jobs: JobsResponse = await (await fetch(
      `${scheduler.url}/api/jobs?limit=500`,
    )).json();
    const shown = new Set(jobs.jobs.map((j) => j.jobId));
    assertOk(
      ids.every((id) => shown.has(id)),
      "the restarted table shows every job",
    );
  } finally {
    await stop(scheduler.process);
  }
});

Deno.test("durable: two replicas' job details agree", async () => {
  await using nats = await startNatsServer();
  const one = await startScheduler(nats);
  const two = await startScheduler(nats);
  try {
    await using _worker = await standInWorker(nats.url);
    await using client = await resultWatcher(nats.url);
    for (let i = 0; i < 10; i++) {
      await client.js.publish(SUBMIT, submission(`f-${i}`), {
        msgID: `f-${i}`,
      });
    }
    await eventually(() => client.results.size === 10, { what: "10 results" });
    for (let i = 0; i < 10; i++) {
      const [a, b] = await eventually(async () => {
        const details = await Promise.all(
          [one, two].map(async (r) =>
            (await fetch(`${r.url}/api/jobs/f-${i}`)).json() as Promise<
              JobDetail
            >
          ),
        );
        return details.every((d) => d.state === "COMPLETED")
          ? details
          : undefined;
      }, { what: `f-${i} COMPLETED on both`, timeoutMs: 2_000 });
      assertEquals(a, b);
    }
  } finally {
    await Promise.all([stop(one.process), stop(two.process)]);
  }
});

Deno.test("durable: with only a core worker of the pool online, jobs go to it on core NATS and its result completes them", async () => {
  await using nats = await startNatsServer();
  const scheduler = await startScheduler(nats);
  try {
    await using client = await resultWatcher(nats.url);
    // The Go MVP's echo worker, in miniature: a queue subscription on
    // job.echo, heartbeats without `durable`, results on sys.job.result.
    const ran: string[] = [];
    client.nc.subscribe(TOPIC, {
      queue: "workers-echo",
      callback: (_e, msg) => {
        const d = decodePacket(msg.data);
        if (!d.ok || d.packet.payload.case !== "jobRequest") return;
        ran.push(d.packet.payload.value.jobId);
        client.nc.publish(
          RESULT,
          encodePacket(packet({
            case: "jobResult",
            value: create(JobResultSchema, {
              jobId: d.packet.payload.value.jobId,
              status: JobStatus.COMPLETED,
              workerId: "core-1",
            }),
          }, { senderId: "core-1" })),
        );
      },
    });
    client.nc.publish(
      "sys.heartbeat.echo",
      encodePacket(packet({
        case: "heartbeat",
        value: create(HeartbeatSchema, { workerId: "core-1", pool: "echo" }),
      }, { senderId: "core-1" })),
    );
    await client.nc.flush();
    await eventually(
      async () =>
        (await (await fetch(`${scheduler.url}/api/workers`)).json()).workers
          .length === 1,
      { what: "the core worker known" },
    );
    await client.js.publish(SUBMIT, submission("g-1"), { msgID: "g-1" });
    const detail = await eventually(async () => {
      const d: JobDetail = await (await fetch(`${scheduler.url}/api/jobs/g-1`))
        .json();
      return d.state === "COMPLETED" ? d : undefined;
    }, { what: "g-1 COMPLETED in the ledger" });
    assertEquals(detail.attempts.map((a) => a.workerId), ["core-1"]);
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(ran, ["g-1"]);
    assertEquals(client.results.get("g-1")!.length, 1); // the worker's own
  } finally {
    await stop(scheduler.process);
  }
});

Deno.test("durable: a job past its deadline is TIMEOUT once, across two replicas", async () => {
  await using nats = await startNatsServer();
  const env = { CORTEX_JOB_TIMEOUT_MS: "1500" };
  const one = await startScheduler(nats, env);
  const two = await startScheduler(nats, env);
  try {
    await using client = await resultWatcher(nats.url);
    await client.js.publish(SUBMIT, submission("h-1"), { msgID: "h-1" });
    const [result] = await eventually(() => client.results.get("h-1"), {
      what: "the TIMEOUT of h-1",
    });
    assertEquals(result.status, JobStatus.TIMEOUT);
    await new Promise((r) => setTimeout(r, 2_000));
    assertEquals(client.results.get("h-1")!.length, 1);
  } finally {
    await Promise.all([stop(one.process), stop(two.process)]);
  }
});

Deno.test("durable: CORTEX_DURABILITY=jetstream on a server without JetStream exits 2, saying so", async () => {
  const port = freePort();
  await using _nats = new Child("nats-server", "nats-server", [
    "-a",
    "127.0.0.1",
    "-p",
    String(port),
  ]);
  await _nats.waitFor(/Server is ready/);
  const scheduler = startTask("scheduler", [], {
    NATS_URL: `nats://127.0.0.1:${port}`,
    CORTEX_DURABILITY: "jetstream",
    CORTEX_DASHBOARD: "off",
  });
  const status = await scheduler.status;
  assertEquals(status.code, 2);
  assertOk(
    scheduler.lines.some((l) => /does not offer JetStream/.test(l)),
    scheduler.lines.join("\n"),
  );
});

Deno.test("durable: a stream of CortexOS's name made otherwise stops the start (exit 2) with what to do", async () => {
  await using nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: SUBMIT_STREAM, subjects: [SUBMIT] });
  } finally {
    await nc.close();
  }
  const scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DURABILITY: "jetstream",
    CORTEX_DASHBOARD: "off",
  });
  assertEquals((await scheduler.status).code, 2);
  assertOk(
    scheduler.lines.some((l) => l.includes("nats stream rm CORTEX_SUBMIT")),
    scheduler.lines.join("\n"),
  );
});
