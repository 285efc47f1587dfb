/**
 * `deno task bench`: measures CortexOS against raw NATS in one run.
 *
 * Starts its own nats-server on a free port, the scheduler (dashboard on)
 * and two echo workers with 0 ms of work, plus the baselines' processes,
 * and drives every scenario from this process with the same NATS client:
 *
 * 1. throughput: N jobs, 100 in flight, against (a) a bare three-hop relay
 *    and (b) plain request/reply;
 * 2. latency: jobs one at a time, same baselines;
 * 3. fleet: scenario 1 while 1,000 simulated workers heartbeat every second;
 * 4. history: 200,000 jobs, scheduler memory at 20k, 100k and 200k;
 * 5. dashboard: scenario 1 with 50 SSE clients on `/api/events`;
 * d1–d3. durable mode (`CORTEX_DURABILITY=jetstream`): throughput and
 *    one-at-a-time latency beside the JetStream floor of one stored hop,
 *    and the scheduler's memory over 200,000 durable jobs, on nats-servers
 *    of their own (scenarios 1–5 run in core mode);
 * c1–c3. cluster: durable throughput, one-at-a-time latency and the
 *    longest wait for a result after a node is SIGKILLed, on a three-node
 *    loopback cluster with streams of three replicas and two scheduler
 *    replicas;
 * o1–o2. operator (issue 12), durable mode, each on a nats-server whose
 *    ledger is filled first: o1 times `GET /api/jobs` searches through
 *    100,000 jobs; o2 measures other jobs' throughput before, during and
 *    after a bulk retry of 10,000 dead letters (`POST /api/jobs/bulk`).
 *
 * `--only core|durable|operator` runs one part. Prints a table and the targets met or not; `--json [FILE]` writes the
 * same as one JSON document (to FILE, or to standard output with the table
 * on standard error); `--quick` runs every scenario small. Speed is reported,
 * never asserted.
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { natsServerVersion, startNatsServer } from "./support/nats_server.ts";
import {
  type BenchArgs,
  type BenchPart,
  FULL,
  parseBenchArgs,
  PARTS,
  QUICK,
  type Sizes,
  USAGE,
} from "./bench/args.ts";
import { Baselines, Cortex } from "./bench/cluster.ts";
import { readFiles } from "./bench/proc.ts";
import {
  type BenchDocument,
  type CoreScenarios,
  EXTERNAL_REFERENCES,
  render,
  verdicts,
} from "./bench/report.ts";
import {
  loadOf,
  log,
  ping,
  rawCortexDriver,
  runCortex,
  runRelay,
  runReply,
} from "./bench/runs.ts";
import { dashboard } from "./bench/scenarios/dashboard.ts";
import { fleet } from "./bench/scenarios/fleet.ts";
import { history } from "./bench/scenarios/history.ts";
import { durable } from "./bench/scenarios/durable.ts";
import { cluster } from "./bench/scenarios/cluster.ts";
import { search } from "./bench/scenarios/search.ts";
import { bulkRetry } from "./bench/scenarios/bulk.ts";
import { latency, throughput } from "./bench/scenarios/throughput.ts";

async function machine(): Promise<BenchDocument["machine"]> {
  const [cpuinfo, meminfo] = await readFiles([
    "/proc/cpuinfo",
    "/proc/meminfo",
  ]);
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0);
  let natsVersion = "unknown";
  try {
    natsVersion = (await natsServerVersion("nats-server")).replace(/^v/, "");
  } catch { /* reported as unknown */ }
  return {
    nproc: navigator.hardwareConcurrency,
    cpu_model: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    mem_total_gib: Math.round(memKb / 1024 / 1024 * 10) / 10,
    deno: Deno.version.deno,
    nats_server: natsVersion,
  };
}

async function main(): Promise<number> {
  let args: BenchArgs | "help";
  try {
    args = parseBenchArgs(Deno.args);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    console.error(`bench: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  const sizes = args.quick ? QUICK : FULL;
  const startedAt = new Date();
  const t0 = performance.now();
  const parts: BenchPart[] = args.only ? [args.only] : [...PARTS];
  const scenarios: BenchDocument["scenarios"] = {};
  if (parts.includes("core")) Object.assign(scenarios, await core(sizes, args));
  if (parts.includes("durable")) {
    const d = await durable(sizes, { profile: args.profile });
    scenarios.durable_throughput = d.throughput;
    scenarios.durable_latency = d.latency;
    scenarios.durable_history = d.history;
    scenarios.cluster = await cluster(sizes);
  }
  if (parts.includes("operator")) {
    scenarios.search = await search(sizes);
    scenarios.bulk_retry = await bulkRetry(sizes);
  }
  const doc: BenchDocument = {
    mode: args.quick ? "quick" : "full",
    parts,
    started_at: startedAt.toISOString(),
    duration_s: Math.round((performance.now() - t0) / 100) / 10,
    machine: await machine(),
    scenarios,
    targets: verdicts(scenarios),
    external_references: EXTERNAL_REFERENCES,
  };
  const text = render(doc);
  const json = JSON.stringify(doc, null, 2);
  if (args.json?.file !== undefined) {
    await Deno.writeTextFile(args.json.file, json + "\n");
    console.log(text);
    log(`wrote ${args.json.file}`);
  } else if (args.json) {
    console.error(text);
    console.log(json);
  } else {
    console.log(text);
  }
  return 0;
}

/** Scenarios 1–5 (core mode), on one nats-server. */
async function core(sizes: Sizes, args: BenchArgs): Promise<CoreScenarios> {
  const nats = await startNatsServer({ monitor: true });
  let nc: NatsConnection | undefined;
  let baselines: Baselines | undefined;
  let cortex: Cortex | undefined;
  try {
    nc = await connect({ servers: nats.url, name: "bench-client" });
    log(`nats-server on ${nats.url}; starting the baselines and CortexOS`);
    [baselines, cortex] = await Promise.all([
      Baselines.start(nats),
      Cortex.start(nats, { profile: args.profile }),
    ]);
    const client = nc;
    await ping("relay", (load) => runRelay(client, load));
    await ping("request/reply", (load) => runReply(client, load));
    await ping("CortexOS", (load) => runCortex(client, load));
    log(
      `warming up (${sizes.warmup} jobs each; CortexOS ${sizes.throughputJobs} through each driver)`,
    );
    await runRelay(nc, loadOf(sizes.warmup, sizes.inflight));
    await runReply(nc, loadOf(sizes.warmup, sizes.inflight));
    // CortexOS's processes reach their speed only after some ten thousand
    // jobs (V8 optimizing them; the job table filling up): the first
    // CortexOS round of scenario 1, always the SDK's, ran up to a third
    // slower, with more CPU a job in the scheduler and the workers. So each
    // driver runs a round's jobs before the rounds.
    await runCortex(nc, loadOf(sizes.throughputJobs, sizes.inflight));
    await rawCortexDriver(nc, loadOf(sizes.throughputJobs, sizes.inflight));
    await runCortex(nc, loadOf(Math.min(200, sizes.warmup), 1));

    const s1 = await throughput(nc, sizes, cortex, baselines, nats.pid);
    const s2 = await latency(nc, sizes, nats.pid);
    const s5 = await dashboard(nc, sizes, cortex);
    if (s5.skipped) log(`5 skipped: ${s5.note}`);
    await cortex.stop();
    cortex = undefined;
    await baselines.stop();
    baselines = undefined;
    const s3 = await fleet(nc, nats, sizes);
    const s4 = await history(nc, nats, sizes);
    return {
      throughput: s1,
      latency: s2,
      fleet: s3,
      history: s4,
      dashboard: s5,
    };
  } finally {
    await cortex?.stop();
    await baselines?.stop();
    await nc?.close();
    await nats.stop();
  }
}

Deno.exit(await main());
