/**
 * The whole job flow over a real nats-server, with the processes started as
 * the README starts them (`deno task ...`).
 */
import { create } from "@bufbuild/protobuf";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  JobRequestSchema,
  type JobResult,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { decodePacket, encodePacket, packet } from "../../src/bus/codec.ts";
import { RESULT, SUBMIT } from "../../src/bus/subjects.ts";
import { denoArgs, launchEnv } from "../../scripts/permissions.ts";
import { assertEquals, assertMatch, assertOk, eventually } from "../assert.ts";
import {
  type NatsServer,
  startNatsServer,
} from "../../scripts/support/nats_server.ts";
import { Child } from "../../scripts/support/child.ts";
import { freePort } from "../../scripts/support/ports.ts";
import { runTask, startTask, type TaskProcess } from "../processes.ts";

const FAST_WORK = { CORTEX_ECHO_MIN_MS: "0", CORTEX_ECHO_MAX_MS: "0" };

/** nats-server, the scheduler and `workers` echo workers, ready to serve. */
async function startStack(
  nats: NatsServer,
  { workers = 1, scheduler = {}, worker = FAST_WORK }: {
    workers?: number;
    scheduler?: Record<string, string>;
    worker?: Record<string, string>;
  } = {},
) {
  // The MVP's pipeline: core mode (durable mode has tests of its own).
  const env = {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD: "off",
    CORTEX_DURABILITY: "none",
  };
  const processes: TaskProcess[] = [
    startTask("scheduler", [], { ...env, ...scheduler }),
  ];
  for (let i = 0; i < workers; i++) {
    processes.push(startTask("worker:echo", [], { ...env, ...worker }));
  }
  await processes[0].waitFor(/serving sys\.job\.submit/);
  for (const w of processes.slice(1)) await w.waitFor(/taking job\.echo/);
  return {
    env,
    scheduler: processes[0],
    workers: processes.slice(1),
    async [Symbol.asyncDispose]() {
      await Promise.all(processes.map((p) => p.stop()));
    },
  };
}

/** Five jobs through `deno task submit` all COMPLETED: the stack still serves. */
async function assertStillServing(env: Record<string, string>): Promise<void> {
  const after = await runTask(
    "submit",
    ["--count", "5", "--concurrency", "5"],
    env,
  );
  assertEquals(after.code, 0, after.stdout + after.stderr);
}

/** A raw NATS client that collects every result, for packets the CLI would never send. */
async function resultWatcher(url: string) {
  const nc: NatsConnection = await connect({ servers: url });
  const results: { traceId: string; result: JobResult }[] = [];
  nc.subscribe(RESULT, {
    callback: (_e, msg) => {
      const d = decodePacket(msg.data);
      if (d.ok && d.packet.payload.case === "jobResult") {
        results.push({
          traceId: d.packet.traceId,
          result: d.packet.payload.value,
        });
      }
    },
  });
  await nc.flush();
  return {
    nc,
    results,
    forTrace: (traceId: string) =>
      eventually(() => results.find((r) => r.traceId === traceId)?.result, {
        what: `a result for trace ${traceId}`,
      }),
    [Symbol.asyncDispose]: () => nc.close(),
  };
}

Deno.test("submit → COMPLETED with the payload echoed; sys.destroy → DENIED, exit 1", async () => {
  await using nats = await startNatsServer();
  await using stack = await startStack(nats);

  const ok = await runTask("submit", ["--payload", "hello cortex"], stack.env);
  assertEquals(ok.code, 0, ok.stderr);
  assertMatch(
    ok.stdout,
    /COMPLETED\s+worker=echo-[0-9a-f]{8}.*output="hello cortex"/,
  );

  const denied = await runTask("submit", ["--topic", "sys.destroy"], stack.env);
  assertEquals(denied.code, 1);
  assertMatch(denied.stdout, /DENIED.*sys\.destroy/);

  const many = await runTask("submit", [
    "--count",
    "50",
    "--concurrency",
    "10",
    "--json",
  ], stack.env);
  assertEquals(many.code, 0, many.stderr);
  const lines = many.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const summary = lines.at(-1).summary;
  assertEquals([summary.count, summary.completed, summary.missing], [
    50,
    50,
    0,
  ]);
  assertEquals(new Set(lines.slice(0, -1).map((l) => l.job_id)).size, 50);
  for (const key of ["jobs_per_s", "p50_ms", "p90_ms", "p99_ms", "max_ms"]) {
    assertOk(typeof summary[key] === "number", key);
  }
});

Deno.test("a job without id, or with an oversize payload, gets a FAILED result", async () => {
  await using nats = await startNatsServer();
  await using _stack = await startStack(nats, {
    scheduler: { CORTEX_MAX_PAYLOAD_BYTES: "1024" },
  });
  await using watcher = await resultWatcher(nats.url);
  const send = (fields: Record<string, unknown>, traceId: string) =>
    watcher.nc.publish(
      SUBMIT,
      encodePacket(
        packet(
          { case: "jobRequest", value: create(JobRequestSchema, fields) },
          {
            senderId: "test",
            traceId,
          },
        ),
      ),
    );
  send({ topic: "job.echo" }, "no-id");
  send(
    { jobId: "huge", topic: "job.echo", payload: new Uint8Array(1025) },
    "huge",
  );
  send({ jobId: "wild", topic: "job.>" }, "wild");

  const noId = await watcher.forTrace("no-id");
  assertEquals([noId.status, noId.error], [
    JobStatus.FAILED,
    "job_id is required",
  ]);
  const huge = await watcher.forTrace("huge");
  assertEquals(huge.status, JobStatus.FAILED);
  assertMatch(huge.error, /1025 bytes; the limit is 1024/);
  assertMatch((await watcher.forTrace("wild")).error, /wildcard/);
});

Deno.test("malformed bytes on every subject: each process logs it and keeps serving", async () => {
  await using nats = await startNatsServer();
  await using stack = await startStack(nats);
  const nc = await connect({ servers: nats.url });
  const valid = encodePacket(packet({
    case: "jobRequest",
    value: create(JobRequestSchema, { jobId: "x-1", topic: "job.echo" }),
  }, { senderId: "fuzz" }));
  let seed = 7;
  const random = (n: number) =>
    Uint8Array.from(
      { length: n },
      () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff,
    );
  const garbage = [
    new Uint8Array(),
    valid.subarray(0, valid.length - 4),
    new TextEncoder().encode("not protobuf at all"),
    ...Array.from({ length: 50 }, (_, i) => random(1 + i * 3)),
  ];
  for (const subject of [SUBMIT, RESULT, "sys.heartbeat.echo", "job.echo"]) {
    for (const bytes of garbage) nc.publish(subject, bytes);
  }
  await nc.flush();
  await nc.close();

  await stack.scheduler.waitFor(
    /dropped an undecodable packet on sys\.job\.submit/,
  );
  await stack.workers[0].waitFor(/dropped an undecodable packet on job\.echo/);
  await assertStillServing(stack.env);
});

Deno.test("a worker killed mid-job: the job is reported TIMEOUT", async () => {
  await using nats = await startNatsServer();
  await using _stack = await startStack(nats, {
    workers: 0,
    scheduler: { CORTEX_JOB_TIMEOUT_MS: "1500" },
  });
  // Started as the launcher starts it, so the kill hits the worker itself.
  const worker = new Child(
    "worker",
    "deno",
    denoArgs(
      "worker:echo",
      launchEnv((n) => n === "NATS_URL" ? nats.url : undefined),
    ),
    {
      env: {
        NATS_URL: nats.url,
        CORTEX_DURABILITY: "none",
        CORTEX_ECHO_MIN_MS: "30000",
        CORTEX_ECHO_MAX_MS: "30000",
      },
    },
  );
  await worker.waitFor(/taking job\.echo/);

  await using watcher = await resultWatcher(nats.url);
  watcher.nc.publish(
    SUBMIT,
    encodePacket(packet({
      case: "jobRequest",
      value: create(JobRequestSchema, { jobId: "doomed", topic: "job.echo" }),
    }, { senderId: "test", traceId: "doomed" })),
  );
  await new Promise((r) => setTimeout(r, 300)); // dispatched and being worked on
  worker.kill("SIGKILL");
  await worker.status;

  const result = await watcher.forTrace("doomed");
  assertEquals(result.status, JobStatus.TIMEOUT);
  assertEquals(result.error, "no result within 1500 ms");
});

Deno.test("nats-server restarted mid-run: processes reconnect and later jobs complete", async () => {
  await using nats = await startNatsServer();
  await using stack = await startStack(nats);
  assertEquals((await runTask("submit", [], stack.env)).code, 0);

  await nats.restart();
  await stack.scheduler.waitFor(/reconnected to NATS/, 30_000);
  await stack.workers[0].waitFor(/reconnected to NATS/, 30_000);
  assertOk(stack.scheduler.lines.some((l) => /disconnected from NATS/.test(l)));

  await assertStillServing(stack.env);
});

Deno.test("workers have unique ids; SIGTERM finishes the job in flight, then leaves", async () => {
  await using nats = await startNatsServer();
  await using stack = await startStack(nats, {
    workers: 2,
    scheduler: { CORTEX_LOG_LEVEL: "debug" },
    worker: { CORTEX_ECHO_MIN_MS: "1500", CORTEX_ECHO_MAX_MS: "1500" },
  });
  const ids = await Promise.all(
    stack.workers.map(async (w) =>
      (await w.waitFor(/worker echo-\w+ taking/)).match(/echo-\w+/)![0]
    ),
  );
  assertEquals(new Set(ids).size, 2);

  const submit = runTask(
    "submit",
    ["--count", "2", "--concurrency", "2"],
    stack.env,
  );
  await eventually(
    () =>
      stack.scheduler.lines.filter((l) => /dispatched to job\.echo/.test(l))
        .length === 2,
    { what: "both jobs dispatched" },
  );
  await new Promise((r) => setTimeout(r, 300)); // and taken by the workers
  const stopping = stack.workers.map((w) => w.stop("SIGTERM"));
  const done = await submit;
  assertEquals(done.code, 0, done.stdout + done.stderr);
  for (const status of await Promise.all(stopping)) {
    assertEquals(status.code, 0);
  }
  for (const id of ids) {
    await stack.scheduler.waitFor(new RegExp(`worker ${id} \\(echo\\) left`));
  }
});

Deno.test("clear errors: NATS unreachable exits 2 naming the URL; a bad setting exits 2 naming it", async () => {
  const url = `nats://127.0.0.1:${freePort()}`;
  const submit = await runTask("submit", [], { NATS_URL: url });
  assertEquals(submit.code, 2);
  assertMatch(submit.stderr, new RegExp(`cannot reach NATS at ${url}`));

  const scheduler = await runTask("scheduler", [], {
    NATS_URL: url,
    CORTEX_DASHBOARD: "off",
    CORTEX_JOB_TIMEOUT_MS: "soon",
  });
  assertEquals(scheduler.code, 2);
  assertMatch(
    scheduler.stderr,
    /CORTEX_JOB_TIMEOUT_MS="soon": expected a whole number/,
  );

  const usage = await runTask("submit", ["--count", "0"], { NATS_URL: url });
  assertEquals(usage.code, 2);
  assertMatch(usage.stderr, /--count 0: expected a whole number of at least 1/);
});

Deno.test("no scheduler running: submit says so at once and exits 2 instead of waiting", async () => {
  await using nats = await startNatsServer();
  for (const args of [[], ["--no-wait"]]) {
    const result = await runTask("submit", args, {
      NATS_URL: nats.url,
      CORTEX_DURABILITY: "none",
    });
    assertEquals(result.code, 2, result.stdout);
    assertMatch(result.stderr, /no scheduler is listening on sys\.job\.submit/);
  }
});
