/**
 * `deno task submit`: submits jobs, waits for their results and prints them.
 *
 * Exit code: 0 when every job COMPLETED, 1 when any ended otherwise, 2 when a
 * result never arrived, NATS could not be reached, or the arguments are wrong.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { type NatsConnection, RequestError } from "@nats-io/nats-core";
import {
  JobPriority,
  JobRequestSchema,
  JobStatus,
} from "../src/gen/cortex/v1/cortex_pb.ts";
import {
  decodePacket,
  encodePacket,
  newTraceId,
  packet,
} from "../src/bus/codec.ts";
import { connectNats, NatsUnreachable } from "../src/bus/connect.ts";
import { ECHO_TOPIC, RESULT, SUBMIT } from "../src/bus/subjects.ts";
import { ConfigError, loadConfig } from "../src/config.ts";
import { summarize } from "../src/latency.ts";
import { logger, setupLogging } from "../src/log.ts";
import { SUBMIT_SETTINGS } from "./submit_config.ts";

const USAGE = `Submit jobs to CortexOS and wait for their results.

usage: deno task submit [options]

  --topic T          job topic (default ${ECHO_TOPIC})
  --payload TEXT     job payload, as text
  --payload-file F   job payload, read from a file
  --priority P       batch | interactive | critical (default unspecified)
  --count N          how many jobs to submit (default 1)
  --concurrency C    how many jobs in flight at once (default 1)
  --timeout D        how long to wait for each job's result: 500ms, 30s, 2m
                     (default 65s, past the scheduler's 60 s job timeout)
  --no-wait          publish and exit without waiting for results
  --json             one JSON object per job, then {"summary": …}
  --help             this text

environment: NATS_URL (default nats://127.0.0.1:4222)
exit code: 0 all COMPLETED, 1 some FAILED/DENIED/TIMEOUT, 2 a result never
arrived, NATS unreachable, or bad arguments`;

class UsageError extends Error {}

interface Options {
  topic: string;
  payload: Uint8Array;
  priority: JobPriority;
  count: number;
  concurrency: number;
  timeoutMs: number;
  wait: boolean;
  json: boolean;
}

function positiveInt(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(
      `--${flag} ${raw}: expected a whole number of at least 1`,
    );
  }
  return n;
}

function duration(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!match) {
    throw new UsageError(`--timeout ${raw}: expected e.g. 500ms, 30s or 2m`);
  }
  const unit = { ms: 1, s: 1000, m: 60_000 }[match[2] ?? "s"]!;
  return Number(match[1]) * unit;
}

function priority(raw: string): JobPriority {
  const byName: Record<string, JobPriority> = {
    unspecified: JobPriority.UNSPECIFIED,
    batch: JobPriority.BATCH,
    interactive: JobPriority.INTERACTIVE,
    critical: JobPriority.CRITICAL,
  };
  const value = byName[raw.toLowerCase()] ?? Number(raw);
  if (!(value in JobPriority)) {
    throw new UsageError(
      `--priority ${raw}: expected batch, interactive, critical or 0-3`,
    );
  }
  return value;
}

async function parse(argv: string[]): Promise<Options | "help"> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      topic: { type: "string", default: ECHO_TOPIC },
      payload: { type: "string" },
      "payload-file": { type: "string" },
      priority: { type: "string", default: "unspecified" },
      count: { type: "string", default: "1" },
      concurrency: { type: "string", default: "1" },
      timeout: { type: "string", default: "65s" },
      "no-wait": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return "help";
  if (values.payload !== undefined && values["payload-file"] !== undefined) {
    throw new UsageError("give --payload or --payload-file, not both");
  }
  let payload = new TextEncoder().encode(values.payload ?? "");
  if (values["payload-file"] !== undefined) {
    try {
      payload = await Deno.readFile(values["payload-file"]);
    } catch (error) {
      throw new UsageError(
        `--payload-file ${values["payload-file"]}: ${(error as Error).message}`,
      );
    }
  }
  return {
    topic: values.topic,
    payload,
    priority: priority(values.priority),
    count: positiveInt("count", values.count),
    concurrency: positiveInt("concurrency", values.concurrency),
    timeoutMs: duration(values.timeout),
    wait: !values["no-wait"],
    json: values.json,
  };
}

/** Writes lines to standard output in batches: printing must not be the bottleneck. */
class Output {
  #lines: string[] = [];
  #encoder = new TextEncoder();
  line(text: string): void {
    this.#lines.push(text);
    if (this.#lines.length >= 256) this.flush();
  }
  flush(): void {
    if (this.#lines.length === 0) return;
    const bytes = this.#encoder.encode(this.#lines.join("\n") + "\n");
    this.#lines = [];
    let written = 0;
    while (written < bytes.length) {
      written += Deno.stdout.writeSync(bytes.subarray(written));
    }
  }
}

interface Outcome {
  jobId: string;
  status: string;
  workerId: string;
  executionMs: number;
  rttMs: number;
  error: string;
  output: string;
}

const STATUS_NAMES: Record<number, string> = {
  [JobStatus.COMPLETED]: "COMPLETED",
  [JobStatus.FAILED]: "FAILED",
  [JobStatus.TIMEOUT]: "TIMEOUT",
  [JobStatus.DENIED]: "DENIED",
  [JobStatus.CANCELLED]: "CANCELLED",
};

function formatLine(o: Outcome): string {
  const parts = [
    o.jobId,
    o.status.padEnd(9),
    `worker=${o.workerId || "-"}`,
    `exec=${o.executionMs}ms`,
    `rtt=${o.rttMs.toFixed(1)}ms`,
  ];
  if (o.error) parts.push(`error="${o.error}"`);
  if (o.output) parts.push(`output=${JSON.stringify(o.output.slice(0, 80))}`);
  return parts.join("  ");
}

/**
 * Sends the first job as a NATS request. Nobody answers it, but the server
 * says at once when nothing subscribes to `sys.job.submit`: then no scheduler
 * runs, and every job would be lost. Resolves false in that case only.
 */
async function firstJob(
  nc: NatsConnection,
  bytes: Uint8Array,
  waitMs: number,
): Promise<boolean> {
  try {
    await nc.request(SUBMIT, bytes, { timeout: waitMs });
  } catch (error) {
    if (error instanceof RequestError && error.isNoResponders()) return false;
  }
  return true;
}

function noSchedulerError(nc: NatsConnection): number {
  console.error(
    `submit: no scheduler is listening on ${SUBMIT} at ${nc.getServer()}: start one with \`deno task scheduler\``,
  );
  return 2;
}

/** Publishes the jobs, collects results; returns the exit code. */
async function run(
  nc: NatsConnection,
  options: Options,
  out: Output,
): Promise<number> {
  const senderId = `submit-${crypto.randomUUID().slice(0, 8)}`;
  const prefix = `job-${crypto.randomUUID().slice(0, 8)}`;
  const jobId = (i: number) =>
    options.count === 1 ? prefix : `${prefix}-${i + 1}`;
  const encode = (i: number) =>
    encodePacket(packet({
      case: "jobRequest",
      value: create(JobRequestSchema, {
        jobId: jobId(i),
        topic: options.topic,
        priority: options.priority,
        payload: options.payload,
      }),
    }, { senderId, traceId: newTraceId() }));

  if (!options.wait) {
    if (!await firstJob(nc, encode(0), 200)) return noSchedulerError(nc);
    for (let i = 1; i < options.count; i++) nc.publish(SUBMIT, encode(i));
    await nc.flush();
    out.line(
      options.json
        ? JSON.stringify({ submitted: options.count, topic: options.topic })
        : `submitted ${options.count} job(s) to ${options.topic}`,
    );
    return 0;
  }

  const inflight = new Map<string, number>(); // job id → sent at (ms)
  const counts: Record<string, number> = {};
  const rtts: number[] = [];
  let next = 0;
  let done = 0;
  let missing = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => finished = resolve);
  const decoder = new TextDecoder();
  const started = performance.now();

  const report = (o: Outcome) => {
    counts[o.status] = (counts[o.status] ?? 0) + 1;
    out.line(
      options.json
        ? JSON.stringify({
          job_id: o.jobId,
          status: o.status,
          worker_id: o.workerId,
          execution_ms: o.executionMs,
          rtt_ms: Math.round(o.rttMs * 1000) / 1000,
          error: o.error,
          output: o.output,
        })
        : formatLine(o),
    );
  };
  const settle = () => {
    done++;
    if (next < options.count) send();
    if (done === options.count) finished();
  };
  let noScheduler = false;
  const send = () => {
    const i = next++;
    const bytes = encode(i);
    inflight.set(jobId(i), performance.now());
    if (i > 0) return nc.publish(SUBMIT, bytes);
    firstJob(nc, bytes, 1_000).then((listening) => {
      if (listening) return;
      noScheduler = true;
      finished();
    });
  };

  nc.subscribe(RESULT, {
    callback: (_error, msg) => {
      const decoded = decodePacket(msg.data);
      if (!decoded.ok || decoded.packet.payload.case !== "jobResult") return;
      const result = decoded.packet.payload.value;
      const sentAt = inflight.get(result.jobId);
      if (sentAt === undefined) return;
      inflight.delete(result.jobId);
      const rttMs = performance.now() - sentAt;
      rtts.push(rttMs);
      report({
        jobId: result.jobId,
        status: STATUS_NAMES[result.status] ?? `STATUS_${result.status}`,
        workerId: result.workerId,
        executionMs: Number(result.executionMs),
        rttMs,
        error: result.error,
        output: result.output.length > 0 ? decoder.decode(result.output) : "",
      });
      settle();
    },
  });
  await nc.flush(); // the result subscription is live before the first job goes out

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [id, sentAt] of inflight) {
      if (now - sentAt < options.timeoutMs) break;
      inflight.delete(id);
      missing++;
      counts.MISSING = (counts.MISSING ?? 0) + 1;
      out.line(
        options.json
          ? JSON.stringify({
            job_id: id,
            status: "MISSING",
            error: `no result within ${options.timeoutMs} ms`,
          })
          : `${id}  MISSING    no result within ${options.timeoutMs} ms`,
      );
      settle();
    }
  }, Math.min(250, options.timeoutMs));

  for (let i = 0; i < Math.min(options.concurrency, options.count); i++) send();
  await allDone;
  clearInterval(sweep);
  if (noScheduler) return noSchedulerError(nc);
  const seconds = (performance.now() - started) / 1000;

  const lat = summarize(rtts);
  const jobsPerS = options.count / seconds;
  if (options.json) {
    out.line(JSON.stringify({
      summary: {
        count: options.count,
        completed: counts.COMPLETED ?? 0,
        failed: counts.FAILED ?? 0,
        denied: counts.DENIED ?? 0,
        timeout: counts.TIMEOUT ?? 0,
        missing,
        jobs_per_s: Math.round(jobsPerS * 10) / 10,
        p50_ms: round(lat.p50),
        p90_ms: round(lat.p90),
        p99_ms: round(lat.p99),
        max_ms: round(lat.max),
      },
    }));
  } else if (options.count > 1) {
    const byStatus = Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(
      ", ",
    );
    out.line(
      `\n${options.count} jobs in ${seconds.toFixed(2)} s (${
        jobsPerS.toFixed(0)
      } jobs/s): ${byStatus}`,
    );
    out.line(
      `round trip ms: p50 ${round(lat.p50)}  p90 ${round(lat.p90)}  p99 ${
        round(lat.p99)
      }  max ${round(lat.max)}`,
    );
  }
  if (missing > 0) return 2;
  return (counts.COMPLETED ?? 0) === options.count ? 0 : 1;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

async function main(): Promise<number> {
  let options: Options | "help";
  let config;
  try {
    options = await parse(Deno.args);
    config = loadConfig(SUBMIT_SETTINGS);
  } catch (error) {
    if (
      error instanceof UsageError || error instanceof ConfigError ||
      error instanceof TypeError
    ) {
      console.error(`submit: ${error.message}\n(see deno task submit --help)`);
      return 2;
    }
    throw error;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  await setupLogging({
    level: config.logLevel === "info" ? "warning" : config.logLevel,
  });
  const log = logger("submit");
  let nc: NatsConnection;
  try {
    nc = await connectNats({
      url: config.natsUrl,
      name: "cortex-submit",
      log,
      waitForServer: false,
    });
  } catch (error) {
    if (!(error instanceof NatsUnreachable)) throw error;
    console.error(`submit: ${error.message}`);
    return 2;
  }
  const out = new Output();
  try {
    return await run(nc, options, out);
  } finally {
    out.flush();
    await nc.close();
  }
}

Deno.exit(await main());
