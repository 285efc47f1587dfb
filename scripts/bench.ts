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
 * 5. dashboard: scenario 1 with 50 SSE clients on `/api/events`.
 *
 * Prints a table and the targets met or not; `--json [FILE]` writes the
 * same as one JSON document (to FILE, or to standard output with the table
 * on standard error); `--quick` runs every scenario small. Speed is reported,
 * never asserted.
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { ECHO_TOPIC, RESULT, SUBMIT } from "../src/bus/subjects.ts";
import { summarize } from "../src/latency.ts";
import {
  type NatsServer,
  natsServerVersion,
  startNatsServer,
} from "./support/nats_server.ts";
import { ROOT } from "./permissions.ts";
import {
  Baselines,
  Cortex,
  denoChild,
  HEARTBEAT_MS,
  MB,
  RELAY_IN,
  RELAY_OUT,
  REPLY_SUBJECT,
  SCHEDULER_ID,
  WORKERS,
} from "./bench/cluster.ts";
import {
  figures,
  type Load,
  Requests,
  type Run,
  type RunFigures,
  runPubSub,
  runRequestReply,
} from "./bench/load.ts";
import { cpuSeconds, CpuWindow, memory, readFiles } from "./bench/proc.ts";
import {
  type BenchDocument,
  type DashboardScenario,
  EXTERNAL_REFERENCES,
  type FleetScenario,
  type HistoryScenario,
  type LatencyScenario,
  render,
  type ThroughputScenario,
  verdicts,
} from "./bench/report.ts";

const USAGE = `Measure CortexOS against raw NATS baselines, in one run.

usage: deno task bench [--quick] [--json [FILE]] [--profile DIR]

  --quick         every scenario small (seconds), e.g. for tests
  --json [FILE]   write the results as one JSON document to FILE (relative
                  to the project root), or to standard output (the table then
                  goes to standard error)
  --profile DIR   run the scheduler and workers of scenarios 1, 2 and 5 with
                  --cpu-prof, writing .cpuprofile files to DIR
  --help          this text`;

/** The sizes of one run. */
interface Sizes {
  warmup: number;
  /** Scenario 1 runs this many interleaved rounds of its jobs per system. */
  rounds: number;
  /** Scenario 2 splits its jobs into this many interleaved rounds. */
  latencyRounds: number;
  throughputJobs: number;
  inflight: number;
  latencyJobs: number;
  fleetWorkers: number;
  fleetJobs: number;
  historyCheckpoints: number[];
  historyTableSize: number;
  sseClients: number;
  sseProbes: number;
  sseJobs: number;
}

const FULL: Sizes = {
  warmup: 3_000,
  rounds: 3,
  latencyRounds: 4,
  throughputJobs: 20_000,
  inflight: 100,
  latencyJobs: 2_000,
  fleetWorkers: 1_000,
  fleetJobs: 20_000,
  historyCheckpoints: [20_000, 100_000, 200_000],
  historyTableSize: 10_000,
  sseClients: 50,
  sseProbes: 5,
  sseJobs: 20_000,
};

const QUICK: Sizes = {
  warmup: 300,
  rounds: 1,
  latencyRounds: 1,
  throughputJobs: 2_000,
  inflight: 100,
  latencyJobs: 200,
  fleetWorkers: 200,
  fleetJobs: 2_000,
  historyCheckpoints: [2_000, 6_000, 10_000],
  historyTableSize: 1_000,
  sseClients: 10,
  sseProbes: 2,
  sseJobs: 2_000,
};

interface Args {
  quick: boolean;
  json: { file?: string } | undefined;
  profile?: string;
}

function parseArgs(argv: string[]): Args | "help" {
  const args: Args = { quick: false, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") return "help";
    else if (a === "--quick") args.quick = true;
    else if (a === "--json") {
      const file = argv[i + 1];
      if (file !== undefined && !file.startsWith("--")) {
        args.json = { file };
        i++;
      } else args.json = {};
    } else if (a.startsWith("--json=")) args.json = { file: a.slice(7) };
    else if (a === "--profile" && argv[i + 1]) args.profile = argv[++i];
    else throw new Error(`unknown argument ${a}\n\n${USAGE}`);
  }
  return args;
}

const log = (line: string) => console.error(`bench: ${line}`);

function deadline(jobs: number): number {
  return 20_000 + jobs * 2;
}

// A new job id tag for every run, so a late answer from one run is never
// counted in the next.
let runNumber = 0;
function requests(): Requests {
  return new Requests(
    `b${Date.now().toString(36)}${(runNumber++).toString(36)}`,
    ECHO_TOPIC,
  );
}

const CORTEX_TARGET = {
  submitSubject: SUBMIT,
  resultSubject: RESULT,
  idPath: [11, 1],
};
const RELAY_TARGET = {
  submitSubject: RELAY_IN,
  resultSubject: RELAY_OUT,
  idPath: [10, 1],
};

function loadOf(
  count: number,
  inflight: number,
  extra: Partial<Load> = {},
): Load {
  return { count, inflight, deadlineMs: deadline(count), ...extra };
}

// Each system's raw runs (for interleaved rounds), and their figures.
const rawCortex = (nc: NatsConnection, load: Load) =>
  runPubSub(nc, CORTEX_TARGET, requests(), load);
const rawRelay = (nc: NatsConnection, load: Load) =>
  runPubSub(nc, RELAY_TARGET, requests(), load);
const rawReply = (nc: NatsConnection, load: Load) =>
  runRequestReply(nc, REPLY_SUBJECT, requests(), load);
const runCortex = async (nc: NatsConnection, load: Load) =>
  figures(await rawCortex(nc, load));
const runRelay = async (nc: NatsConnection, load: Load) =>
  figures(await rawRelay(nc, load));
const runReply = async (nc: NatsConnection, load: Load) =>
  figures(await rawReply(nc, load));

/** Waits until a job makes it all the way round (subscriptions are live). */
async function ping(
  name: string,
  run: (load: Load) => Promise<RunFigures>,
): Promise<void> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const r = await run({ count: 1, inflight: 1, deadlineMs: 500 });
    if (r.completed === 1) return;
  }
  throw new Error(`${name}: no job came back within 15 s`);
}

function describe(name: string, r: RunFigures): void {
  log(
    `${name}: ${r.jobs_per_s} jobs/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms${
      r.missing ? `, ${r.missing} MISSING` : ""
    }`,
  );
}

type Runner = (load: Load) => Promise<Run>;

/**
 * Runs each system `rounds` times, interleaved (relay, request/reply,
 * CortexOS, relay, …), so slow drifts in the machine's load hit all three
 * alike; returns each one's runs and the CPU its processes used.
 */
async function interleaved(
  rounds: number,
  systems: { name: string; run: Runner; pids?: Record<string, number> }[],
  load: () => Load,
  natsPid: number,
): Promise<{ runs: Run[]; cores: Record<string, number> }[]> {
  const out = systems.map(() => ({
    runs: [] as Run[],
    cores: {} as Record<string, number>,
  }));
  for (let round = 0; round < rounds; round++) {
    for (const [k, system] of systems.entries()) {
      const window = new CpuWindow({
        client: "self",
        nats: natsPid,
        ...system.pids,
      });
      await window.start();
      const r = await system.run(load());
      const cores = await window.stop();
      out[k].runs.push(r);
      for (const [name, c] of Object.entries(cores)) {
        out[k].cores[name] = (out[k].cores[name] ?? 0) + c / rounds;
      }
      describe(`${system.name} round ${round + 1}`, figures(r));
    }
  }
  return out;
}

function roundCores(c: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(c).map(([k, v]) => [k, Math.round(v * 100) / 100]),
  );
}

async function throughput(
  nc: NatsConnection,
  sizes: Sizes,
  cortex: Cortex,
  baselines: Baselines,
  natsPid: number,
): Promise<ThroughputScenario> {
  const { throughputJobs: jobs, inflight, rounds } = sizes;
  const [relay, reply, cortexRuns] = await interleaved(
    rounds,
    [
      {
        name: "1 relay",
        run: (l) => rawRelay(nc, l),
        pids: baselines.relayPids(),
      },
      { name: "1 request/reply", run: (l) => rawReply(nc, l) },
      { name: "1 CortexOS", run: (l) => rawCortex(nc, l), pids: cortex.pids() },
    ],
    () => loadOf(jobs, inflight),
    natsPid,
  );
  const c = figures(cortexRuns.runs);
  const r = figures(relay.runs);
  return {
    jobs,
    inflight,
    workers: WORKERS,
    rounds,
    cortex: c,
    relay: r,
    request_reply: figures(reply.runs),
    ratio_to_relay: ratio(c.jobs_per_s, r.jobs_per_s),
    cpu_cores: {
      cortex: roundCores(cortexRuns.cores),
      relay: roundCores(relay.cores),
    },
  };
}

function ratio(a: number, b: number): number {
  return b > 0 ? Math.round((a / b) * 1000) / 1000 : 0;
}

async function latency(
  nc: NatsConnection,
  sizes: Sizes,
  natsPid: number,
): Promise<LatencyScenario> {
  const { latencyJobs: jobs, latencyRounds: rounds } = sizes;
  const perRound = Math.ceil(jobs / rounds);
  const [relay, reply, cortexRuns] = await interleaved(
    rounds,
    [
      { name: "2 relay", run: (l) => rawRelay(nc, l) },
      { name: "2 request/reply", run: (l) => rawReply(nc, l) },
      { name: "2 CortexOS", run: (l) => rawCortex(nc, l) },
    ],
    () => loadOf(perRound, 1),
    natsPid,
  );
  const c = figures(cortexRuns.runs);
  const r = figures(relay.runs);
  return {
    jobs: perRound * rounds,
    rounds,
    cortex: c,
    relay: r,
    request_reply: figures(reply.runs),
    p50_ratio_to_relay: ratio(c.p50_ms, r.p50_ms),
    p99_ratio_to_relay: ratio(c.p99_ms, r.p99_ms),
  };
}

/** GET `url` as JSON; `undefined` when nothing answers or it is a 404. */
async function getJson(url: string): Promise<unknown | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    return await response.json();
  } catch {
    return undefined;
  }
}

/** How many workers of pool `sim` the dashboard's `/api/workers` lists. */
async function listedSimWorkers(cortex: Cortex): Promise<number | undefined> {
  const body = await getJson(`${cortex.dashboardUrl}/api/workers`);
  if (body === undefined) return undefined;
  const list = Array.isArray(body)
    ? body
    : Array.isArray((body as { workers?: unknown }).workers)
    ? (body as { workers: unknown[] }).workers
    : undefined;
  if (!list) return undefined;
  return list.filter((w) => {
    const worker = w as { workerId?: string; worker_id?: string };
    return (worker.workerId ?? worker.worker_id ?? "").startsWith("sim-");
  }).length;
}

async function fleet(
  nc: NatsConnection,
  nats: NatsServer,
  sizes: Sizes,
): Promise<FleetScenario> {
  const cortex = await Cortex.start(nats);
  const slow = cortex.scheduler.count(/slow consumer/);
  const sim = denoChild("fleet", [
    "run",
    "--no-prompt",
    `--allow-net=127.0.0.1:${nats.port}`,
    `${ROOT}/scripts/bench/fleet.ts`,
    nats.url,
    String(sizes.fleetWorkers),
    String(HEARTBEAT_MS),
  ], { stdin: true });
  try {
    await ping("CortexOS", (load) => runCortex(nc, load));
    await runCortex(nc, loadOf(sizes.warmup, sizes.inflight));
    await sim.waitFor(/^ready$/);
    // Let the registry see every worker at least once more before the run.
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS));

    const slowBefore = await slowConsumers(nats);
    let maxPending = 0;
    const sampling = setInterval(async () => {
      const pending = await pendingBytes(nats, SCHEDULER_ID);
      if (pending > maxPending) maxPending = pending;
    }, 100);
    const window = new CpuWindow({ scheduler: cortex.scheduler.pid });
    await window.start();
    const run = await runCortex(nc, loadOf(sizes.fleetJobs, sizes.inflight));
    const cpu = (await window.stop()).scheduler;
    clearInterval(sampling);
    describe(`3 CortexOS + ${sizes.fleetWorkers} workers`, run);
    const listed = await listedSimWorkers(cortex);
    const peak = (await memory(cortex.scheduler.pid)).hwm;
    const slowAfter = await slowConsumers(nats);
    await sim.stop();
    const summary = JSON.parse(
      sim.lines.findLast((l) => l.startsWith("{")) ?? '{"sent":0}',
    );
    return {
      simulated_workers: sizes.fleetWorkers,
      heartbeat_ms: HEARTBEAT_MS,
      jobs: sizes.fleetJobs,
      cortex: run,
      heartbeats_sent: summary.sent,
      scheduler_cpu_cores: Math.round(cpu * 100) / 100,
      scheduler_peak_rss_mb: Math.round(peak / MB * 10) / 10,
      scheduler_max_pending_bytes: maxPending,
      slow_consumers: slowAfter - slowBefore + slow(),
      registry_listed: listed ?? null,
      registry_note: listed === undefined
        ? "not checked (no dashboard: GET /api/workers did not answer)"
        : "GET /api/workers",
    };
  } finally {
    await sim.stop();
    await cortex.stop();
  }
}

async function slowConsumers(nats: NatsServer): Promise<number> {
  const varz = await getJson(`${nats.monitorUrl}/varz`) as
    | { slow_consumers?: number }
    | undefined;
  return varz?.slow_consumers ?? 0;
}

async function pendingBytes(nats: NatsServer, name: string): Promise<number> {
  const connz = await getJson(`${nats.monitorUrl}/connz`) as
    | { connections?: { name?: string; pending_bytes?: number }[] }
    | undefined;
  let pending = 0;
  for (const c of connz?.connections ?? []) {
    if (c.name === name) pending = Math.max(pending, c.pending_bytes ?? 0);
  }
  return pending;
}

async function history(
  nc: NatsConnection,
  nats: NatsServer,
  sizes: Sizes,
): Promise<HistoryScenario> {
  const cortex = await Cortex.start(nats, {
    jobTableSize: sizes.historyTableSize,
  });
  try {
    await ping("CortexOS", (load) => runCortex(nc, load));
    const checkpoints: HistoryScenario["checkpoints"] = [];
    const readings: Promise<void>[] = [];
    const jobs = sizes.historyCheckpoints[sizes.historyCheckpoints.length - 1];
    const run = await runCortex(
      nc,
      loadOf(jobs, sizes.inflight, {
        checkpoints: sizes.historyCheckpoints,
        onCheckpoint: (done) => {
          readings.push(
            memory(cortex.scheduler.pid).then((m) => {
              checkpoints.push({
                jobs: done,
                peak_rss_mb: Math.round(m.hwm / MB * 10) / 10,
                rss_mb: Math.round(m.rss / MB * 10) / 10,
              });
              log(
                `4 after ${done} jobs: scheduler peak RSS ${
                  (m.hwm / MB).toFixed(1)
                } MB, RSS ${(m.rss / MB).toFixed(1)} MB`,
              );
            }),
          );
        },
      }),
    );
    await Promise.all(readings);
    checkpoints.sort((a, b) => a.jobs - b.jobs);
    describe("4 CortexOS", run);
    const first = checkpoints[0]?.peak_rss_mb ?? 0;
    const last = checkpoints[checkpoints.length - 1]?.peak_rss_mb ?? 0;
    return {
      jobs,
      job_table_size: sizes.historyTableSize,
      cortex: run,
      checkpoints,
      growth_ratio: ratio(last, first),
    };
  } finally {
    await cortex.stop();
  }
}

/**
 * Scenario 5: scenario 1 without, then with, SSE clients on the dashboard's
 * `GET /api/events`. Skipped (with a note) when the scheduler has no such
 * endpoint yet.
 */
async function dashboard(
  nc: NatsConnection,
  sizes: Sizes,
  cortex: Cortex,
): Promise<DashboardScenario> {
  const skipped = (note: string): DashboardScenario => ({
    skipped: true,
    note,
    clients: sizes.sseClients,
    jobs: sizes.sseJobs,
    without_clients: null,
    with_clients: null,
    throughput_cost: null,
    delivery_p50_ms: null,
    delivery_p99_ms: null,
    delivery_max_ms: null,
    delivered: null,
    expected: null,
    scheduler_us_per_job_without: null,
    scheduler_us_per_job_with: null,
  });
  const url = `${cortex.dashboardUrl}/api/events`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    if (response.status === 404) {
      return skipped(
        `GET /api/events answered 404: no dashboard on this build`,
      );
    }
    if (!response.ok) {
      return skipped(`GET /api/events answered HTTP ${response.status}`);
    }
  } catch (error) {
    return skipped(
      `GET /api/events did not answer (${
        error instanceof Error ? error.message.split("\n")[0] : error
      }): no dashboard on this build`,
    );
  }

  // A-B-A: runs without clients before and after the run with them, so a
  // drift in the shared machine's load is not taken for the clients' cost.
  // The scheduler's own CPU per job, with and without the clients, is the
  // server-side cost alone; jobs/s also carries the clients' share of the
  // same two cores.
  const schedulerPid = cortex.pids().scheduler;
  const cpu = async () => (await cpuSeconds([schedulerPid]))[0];
  let mark = await cpu();
  const before = await rawCortex(nc, loadOf(sizes.sseJobs, sizes.inflight));
  let withoutCpu = (await cpu()) - mark;
  const port = new URL(cortex.dashboardUrl).port;
  const reqs = requests();
  const clients = denoChild("sse-clients", [
    "run",
    "--no-prompt",
    `--allow-net=127.0.0.1:${port}`,
    `${ROOT}/scripts/bench/sse_clients.ts`,
    cortex.dashboardUrl,
    String(sizes.sseClients),
    String(sizes.sseProbes),
    `${reqs.tag}-`,
  ], { stdin: true });
  try {
    await clients.waitFor(/^ready$/, 30_000);
    const arrivals = new Float64Array(sizes.sseJobs);
    mark = await cpu();
    const withClients = figures(
      await runPubSub(
        nc,
        CORTEX_TARGET,
        reqs,
        loadOf(sizes.sseJobs, sizes.inflight, { arrivals }),
      ),
    );
    const withCpu = (await cpu()) - mark;
    describe(`5 CortexOS, ${sizes.sseClients} SSE clients`, withClients);
    // Deltas are coalesced every ~250 ms: give the last ones time to arrive.
    await new Promise((r) => setTimeout(r, 1_500));
    await clients.stop();
    mark = await cpu();
    const after = await rawCortex(nc, loadOf(sizes.sseJobs, sizes.inflight));
    withoutCpu += (await cpu()) - mark;
    const without = figures([before, after]);
    describe("5 CortexOS, no SSE clients (before and after)", without);
    const line = clients.lines.findLast((l) => l.startsWith("{"));
    if (!line) throw new Error("the SSE clients printed no results");
    const seen = JSON.parse(line) as {
      events: number;
      arrivals: Record<string, number>[];
    };
    const delays: number[] = [];
    for (const probe of seen.arrivals) {
      for (const [jobId, at] of Object.entries(probe)) {
        const i = Number(jobId.slice(jobId.lastIndexOf("-") + 1));
        if (arrivals[i] > 0) delays.push(at - arrivals[i]);
      }
    }
    const d = summarize(delays);
    const r1 = (x: number) => Math.round(x * 10) / 10;
    return {
      skipped: false,
      note:
        `${seen.events} SSE events read; delay measured on ${sizes.sseProbes} probing clients`,
      clients: sizes.sseClients,
      jobs: sizes.sseJobs,
      without_clients: without,
      with_clients: withClients,
      throughput_cost: Math.round(
        (1 - ratio(withClients.jobs_per_s, without.jobs_per_s)) * 1000,
      ) / 1000,
      delivery_p50_ms: r1(d.p50),
      delivery_p99_ms: r1(d.p99),
      delivery_max_ms: r1(d.max),
      delivered: delays.length,
      expected: sizes.sseJobs * sizes.sseProbes,
      scheduler_us_per_job_without: Math.round(
        withoutCpu * 1e6 / (2 * sizes.sseJobs),
      ),
      scheduler_us_per_job_with: Math.round(withCpu * 1e6 / sizes.sseJobs),
    };
  } finally {
    await clients.stop();
  }
}

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
  let args: Args | "help";
  try {
    args = parseArgs(Deno.args);
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    return 2;
  }
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  const sizes = args.quick ? QUICK : FULL;
  const startedAt = new Date();
  const t0 = performance.now();
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
    log(`warming up (${sizes.warmup} jobs each)`);
    await runRelay(nc, loadOf(sizes.warmup, sizes.inflight));
    await runReply(nc, loadOf(sizes.warmup, sizes.inflight));
    await runCortex(nc, loadOf(sizes.warmup, sizes.inflight));
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

    const scenarios = {
      throughput: s1,
      latency: s2,
      fleet: s3,
      history: s4,
      dashboard: s5,
    };
    const doc: BenchDocument = {
      mode: args.quick ? "quick" : "full",
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
  } finally {
    await cortex?.stop();
    await baselines?.stop();
    await nc?.close();
    await nats.stop();
  }
}

Deno.exit(await main());
