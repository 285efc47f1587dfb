/**
 * Every bound on what a peer sends: a job's fields, its packet's ids, the
 * strings of a heartbeat, and what a refused job costs to keep and log.
 */
import { create } from "@bufbuild/protobuf";
import {
  HeartbeatSchema,
  JobRequestSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import type { JobResult } from "../../src/bus/messages.ts";
import { packet } from "../../src/bus/codec.ts";
import { RESULT, SUBMIT } from "../../src/bus/subjects.ts";
import { recordingLogger } from "../recording_logger.ts";
import { loadConfig } from "../../src/config.ts";
import {
  SCHEDULER_SETTINGS,
  validationLimits,
} from "../../src/scheduler/config.ts";
import { Scheduler } from "../../src/scheduler/engine.ts";
import { JobTable } from "../../src/scheduler/job_table.ts";
import { WorkerRegistry } from "../../src/scheduler/registry.ts";
import { SubjectPolicy } from "../../src/scheduler/safety.ts";
import { NaiveStrategy } from "../../src/scheduler/strategy.ts";
import {
  clipped,
  heartbeatProblem,
  utf8Length,
  validateJob,
  validateSender,
} from "../../src/scheduler/validation.ts";
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { MemoryBus } from "../memory_bus.ts";

const limits = { maxPayloadBytes: 1024 };
const job = (fields: Parameters<typeof create<typeof JobRequestSchema>>[1]) =>
  create(JobRequestSchema, { jobId: "j", topic: "job.echo", ...fields });

function scheduler(registryCapacity = 100) {
  const bus = new MemoryBus();
  const { log, lines } = recordingLogger();
  const jobs = new JobTable({ capacity: 100 });
  const engine = new Scheduler({
    bus,
    safety: new SubjectPolicy(),
    strategy: new NaiveStrategy(),
    registry: new WorkerRegistry({
      heartbeatMs: 1_000,
      capacity: registryCapacity,
    }),
    jobs,
    limits: { maxPayloadBytes: 1024 },
    senderId: "scheduler-test",
    log,
    tickMs: 3_600_000,
  });
  void engine.start();
  const results = () =>
    bus.on(RESULT).map((p) => ({
      ...(p.payload.value as JobResult),
      traceId: p.traceId,
    }));
  return { bus, engine, jobs, lines, results };
}

Deno.test("bounds: a job id over 256 bytes (not characters) is FAILED, saying its size and setting", () => {
  assertEquals(validateJob(job({ jobId: "x".repeat(256) }), limits), undefined);
  assertEquals(
    validateJob(job({ jobId: "é".repeat(129) }), limits),
    "job_id is 258 bytes; the limit is 256 (CORTEX_MAX_JOB_ID_BYTES)",
  );
  assertMatch(
    validateJob(job({ jobId: "x".repeat(500_000) }), limits)!,
    /^job_id is 500000 bytes; the limit is 256/,
  );
  // The setting moves it.
  assertEquals(
    validateJob(job({ jobId: "x".repeat(300) }), {
      ...limits,
      maxJobIdBytes: 512,
    }),
    undefined,
  );
});

Deno.test("bounds: a topic over 256 bytes is FAILED without repeating it", () => {
  assertEquals(
    validateJob(job({ topic: `job.${"t".repeat(252)}` }), limits),
    undefined,
  );
  const problem = validateJob(
    job({ topic: `job.${"t".repeat(100_000)}` }),
    limits,
  )!;
  assertEquals(problem, "topic is 100004 bytes; the limit is 256");
});

Deno.test("bounds: env vars are at most 64, and 16 KiB of names and values", () => {
  const env = (count: number, valueBytes = 1) =>
    Object.fromEntries(
      Array.from(
        { length: count },
        (_, i) => [`V${i}`, "v".repeat(valueBytes)],
      ),
    );
  assertEquals(validateJob(job({ envVars: env(64) }), limits), undefined);
  assertEquals(
    validateJob(job({ envVars: env(65) }), limits),
    "env_vars has 65 variables; the limit is 64 (CORTEX_MAX_ENV_VARS)",
  );
  assertEquals(
    validateJob(job({ envVars: env(10_000) }), limits),
    "env_vars has 10000 variables; the limit is 64 (CORTEX_MAX_ENV_VARS)",
  );
  assertEquals(
    validateJob(job({ envVars: { A: "v".repeat(16 * 1024 - 1) } }), limits),
    undefined,
  );
  assertEquals(
    validateJob(job({ envVars: { A: "v".repeat(16 * 1024) } }), limits),
    "env_vars hold 16385 bytes of names and values; the limit is 16384 (CORTEX_MAX_ENV_BYTES)",
  );
  assertEquals(
    validateJob(job({ envVars: env(100) }), { ...limits, maxEnvVars: 100 }),
    undefined,
  );
});

Deno.test("bounds: context_ptr and adapter_id are at most 1 KiB; packet ids 256 bytes", () => {
  assertMatch(
    validateJob(job({ contextPtr: "p".repeat(1025) }), limits)!,
    /^context_ptr is 1025 bytes; the limit is 1024$/,
  );
  assertMatch(
    validateJob(job({ adapterId: "a".repeat(5000) }), limits)!,
    /^adapter_id is 5000 bytes/,
  );
  assertEquals(validateSender({ traceId: "t", submitter: "s" }), undefined);
  assertEquals(
    validateSender({ traceId: "t".repeat(300), submitter: "s" }),
    "the packet's trace_id is 300 bytes; the limit is 256",
  );
  assertMatch(
    validateSender({ traceId: "t", submitter: "s".repeat(100_000) })!,
    /sender_id is 100000 bytes/,
  );
});

Deno.test("bounds: the settings CORTEX_MAX_JOB_ID_BYTES, CORTEX_MAX_ENV_VARS, CORTEX_MAX_ENV_BYTES", () => {
  const defaults = validationLimits(
    loadConfig(SCHEDULER_SETTINGS, () => undefined),
  );
  assertEquals(defaults, {
    maxPayloadBytes: 65536,
    maxJobIdBytes: 256,
    maxEnvVars: 64,
    maxEnvBytes: 16384,
  });
  const set: Record<string, string> = {
    CORTEX_MAX_JOB_ID_BYTES: "1024",
    CORTEX_MAX_ENV_VARS: "8",
    CORTEX_MAX_ENV_BYTES: "4096",
  };
  const tuned = validationLimits(loadConfig(SCHEDULER_SETTINGS, (n) => set[n]));
  assertEquals(
    [tuned.maxJobIdBytes, tuned.maxEnvVars, tuned.maxEnvBytes],
    [1024, 8, 4096],
  );
});

Deno.test("reserved: topics starting with $, _INBOX or cortex. are DENIED like sys.", () => {
  const policy = new SubjectPolicy({ allow: [">"] });
  for (
    const topic of [
      "$JS.API.INFO",
      "$SYS.REQ.SERVER.PING",
      "$KV.x.y",
      "_INBOX.victim",
      "_INBOX_custom.abc",
      "sys.heartbeat.echo",
      "sys.job.result",
      "cortex.work.job.echo",
      "cortex.attempt",
    ]
  ) {
    const verdict = policy.check(job({ topic }));
    assertOk(!verdict.allowed, topic);
    assertMatch(verdict.reason, /reserved/, topic);
  }
  for (
    const topic of ["job.$x", "job._INBOX", "inbox.x", "system.x", "cortexos.x"]
  ) {
    assertOk(policy.check(job({ topic })).allowed, topic);
  }
});

Deno.test("refused: a 500 KB id, topic and env cost a few hundred bytes in the table, the log and the result", () => {
  const { bus, jobs, lines, results } = scheduler();
  const hugeId = "i".repeat(500_000);
  const hugeEnv = Object.fromEntries(
    Array.from({ length: 10_000 }, (_, i) => [`VAR_${i}`, "v".repeat(50)]),
  );
  bus.publish(
    SUBMIT,
    packet({
      case: "jobRequest",
      value: create(JobRequestSchema, {
        jobId: hugeId,
        topic: `job.${"t".repeat(500_000)}`,
        envVars: hugeEnv,
        contextPtr: "c".repeat(500_000),
      }),
    }, { senderId: "s".repeat(100_000), traceId: "t".repeat(100_000) }),
  );
  const [result] = results();
  assertEquals(result.status, JobStatus.FAILED);
  assertEquals(result.jobId, `${"i".repeat(64)}…(500000 bytes)`);
  assertMatch(result.error, /^job_id is 500000 bytes; the limit is 256/);
  assertOk(result.traceId.length < 100, "the result's trace id is clipped");
  const record = jobs.get(result.jobId)!;
  assertEquals(record.state, "FAILED");
  const recordSize = JSON.stringify(record).length;
  assertOk(recordSize < 4_000, `record is ${recordSize} characters`);
  assertOk(Object.keys(record.envVars).length <= 9);
  assertMatch(record.envVars["…"], /10000 variables/);
  assertEquals(lines.length, 1);
  assertOk(
    lines[0].length < 1_000,
    `log line is ${lines[0].length} characters`,
  );
  assertMatch(lines[0], /refused: job_id is 500000 bytes/);
});

Deno.test("refused: an id within the limit is answered in full, so the submitter can match it", () => {
  const { bus, results } = scheduler();
  const id = "k".repeat(256);
  bus.publish(
    SUBMIT,
    packet({
      case: "jobRequest",
      value: create(JobRequestSchema, {
        jobId: id,
        topic: "job.echo",
        envVars: { A: "v".repeat(20_000) },
      }),
    }, { senderId: "client" }),
  );
  const [result] = results();
  assertEquals(result.jobId, id);
  assertMatch(result.error, /CORTEX_MAX_ENV_BYTES/);
});

Deno.test("clipped: whole characters, a fresh copy, and the size", () => {
  assertEquals(clipped("short", 256), "short");
  const emoji = "😀".repeat(100); // 400 bytes, 4 each
  const cut = clipped(emoji, 256);
  assertEquals(cut, `${"😀".repeat(16)}…(400 bytes)`);
  assertEquals(utf8Length("a😀é"), 7);
  assertEquals(utf8Length("\ud800x"), 4); // a lone surrogate is written as 3 bytes
});

Deno.test("heartbeats: every string is bounded, and the number of capabilities", () => {
  const beat = (fields: Parameters<typeof create<typeof HeartbeatSchema>>[1]) =>
    heartbeatProblem(create(HeartbeatSchema, { workerId: "w", ...fields }));
  assertEquals(beat({ pool: "echo", capabilities: ["a", "b"] }), undefined);
  assertEquals(beat({ workerId: "" }), "worker_id is required");
  const long = "x".repeat(257);
  assertEquals(
    beat({ workerId: long }),
    "worker_id is 257 bytes; the limit is 256",
  );
  assertEquals(beat({ pool: long }), "pool is 257 bytes; the limit is 256");
  assertEquals(beat({ region: long }), "region is 257 bytes; the limit is 256");
  assertEquals(beat({ type: long }), "type is 257 bytes; the limit is 256");
  assertEquals(
    beat({ capabilities: ["ok", long] }),
    "capability 2 is 257 bytes; the limit is 256",
  );
  assertEquals(
    beat({ capabilities: Array.from({ length: 65 }, (_, i) => `c${i}`) }),
    "it lists 65 capabilities; the limit is 64",
  );
  assertEquals(
    beat({ capabilities: Array.from({ length: 64 }, (_, i) => `c${i}`) }),
    undefined,
  );
});

Deno.test("heartbeats over the bounds are ignored, counted, and logged at a bounded rate", () => {
  const { bus, engine, lines } = scheduler();
  for (let i = 0; i < 1_000; i++) {
    bus.publish(
      "sys.heartbeat.echo",
      packet({
        case: "heartbeat",
        value: create(HeartbeatSchema, {
          workerId: `w${i}-${"x".repeat(10_000)}`,
          pool: "echo",
        }),
      }, { senderId: "forger" }),
    );
  }
  assertEquals(engine.counters.badHeartbeats, 1_000);
  assertEquals(engine.workers.list().length, 0);
  assertEquals(lines.length, 5);
  for (const line of lines) {
    assertMatch(line, /worker_id is 100\d\d bytes; the limit is 256/);
    assertOk(line.length < 400, line);
  }
});
