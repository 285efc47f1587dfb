/**
 * The benchmark's targets and the table printed from its document
 * (`document.ts`).
 *
 * @module
 */
import type { RunFigures } from "./load.ts";
import type {
  BenchDocument,
  CoreScenarios,
  DurableScenarios,
  OperatorScenarios,
} from "./document.ts";

import {
  BULLMQ_DURABLE_JOBS_PER_S,
  hasCore,
  hasDurable,
  hasOperator,
} from "./verdicts.ts";

export type * from "./document.ts";
export { BULLMQ_DURABLE_JOBS_PER_S, verdicts } from "./verdicts.ts";

/** The issues' figures for BullMQ 6 on Redis 7 (2 cores), quoted, not measured. */
export const EXTERNAL_REFERENCES = {
  bullmq_jobs_per_s:
    "about 8,000 no-op jobs/s with 100 in flight (issue 5; not measured here)",
  bullmq_p50_ms:
    "about 1.1-1.3 ms one job at a time (issue 5; not measured here)",
  nats_request_reply:
    "about 20,000 req/s, p50 about 0.35 ms (issue 5; measured here as the request/reply baseline)",
  bullmq_durable_jobs_per_s:
    "about 11,000 no-op jobs/s with 100 in flight, the durable target's bar (issue 9; not measured here)",
  jetstream_floor_jobs_per_s:
    "about 18,000 jobs/s for the JetStream floor on the issue's machine (issue 9; measured here as the floor)",
};

const fixed = (x: number, d = 2) => x.toFixed(d);

function runRow(name: string, r: RunFigures | null): string[] {
  if (!r) return [name, "-", "-", "-", "-", "-", "-"];
  return [
    name,
    String(r.jobs_per_s),
    fixed(r.p50_ms, 3),
    fixed(r.p90_ms, 3),
    fixed(r.p99_ms, 3),
    fixed(r.max_ms, 3),
    r.missing === 0
      ? `${r.completed}`
      : `${r.completed} (${r.missing} missing)`,
  ];
}

function table(rows: string[][], left = 1): string {
  const widths = rows[0].map((_, c) =>
    Math.max(...rows.map((r) => r[c].length))
  );
  return rows.map((r) =>
    r.map((cell, c) =>
      c < left ? cell.padEnd(widths[c]) : cell.padStart(widths[c])
    )
      .join("  ").trimEnd()
  ).join("\n");
}

const cpu = (c: Record<string, number>) =>
  Object.entries(c).map(([k, v]) => `${k} ${fixed(v)}`).join(", ");
const us = (c: Record<string, number>) =>
  Object.entries(c).map(([k, v]) => `${k} ${v}`).join(", ");
const memory = (h: CoreScenarios["history"]) =>
  h.checkpoints.map((c) =>
    `${c.jobs}: peak ${fixed(c.peak_rss_mb, 1)} MB / now ${
      fixed(c.rss_mb, 1)
    } MB`
  ).join("; ");

function coreRows(s: CoreScenarios): string[][] {
  return [
    runRow(
      `1 throughput: CortexOS (${s.throughput.rounds} x ${s.throughput.jobs} jobs, ${s.throughput.inflight} in flight)`,
      s.throughput.cortex,
    ),
    runRow(
      "1 throughput: CortexOS, the bench's raw driver (no SDK)",
      s.throughput.raw_driver,
    ),
    runRow("1 throughput: baseline (a) 3-hop relay", s.throughput.relay),
    runRow(
      "1 throughput: baseline (b) request/reply",
      s.throughput.request_reply,
    ),
    runRow(
      `2 latency: CortexOS (${s.latency.jobs} jobs in ${s.latency.rounds} rounds, 1 in flight)`,
      s.latency.cortex,
    ),
    runRow("2 latency: baseline (a) 3-hop relay", s.latency.relay),
    runRow("2 latency: baseline (b) request/reply", s.latency.request_reply),
    runRow(
      `3 fleet: CortexOS + ${s.fleet.simulated_workers} workers beating`,
      s.fleet.cortex,
    ),
    runRow(`4 history: CortexOS (${s.history.jobs} jobs)`, s.history.cortex),
    runRow(
      "5 dashboard: CortexOS, no SSE clients (2 runs)",
      s.dashboard.without_clients,
    ),
    runRow(
      `5 dashboard: CortexOS, ${s.dashboard.clients} SSE clients`,
      s.dashboard.with_clients,
    ),
  ];
}

function durableRows(s: DurableScenarios): string[][] {
  return [
    runRow(
      `d1 durable: CortexOS (${s.durable_throughput.rounds} x ${s.durable_throughput.jobs} jobs, ${s.durable_throughput.inflight} in flight)`,
      s.durable_throughput.cortex,
    ),
    runRow(
      "d1 durable: JetStream floor (1 stored hop)",
      s.durable_throughput.floor,
    ),
    runRow(
      `d2 durable: CortexOS (${s.durable_latency.jobs} jobs in ${s.durable_latency.rounds} rounds, 1 in flight)`,
      s.durable_latency.cortex,
    ),
    runRow("d2 durable: JetStream floor", s.durable_latency.floor),
    runRow(
      `d3 durable: CortexOS (${s.durable_history.jobs} jobs)`,
      s.durable_history.cortex,
    ),
    runRow(
      `c1 cluster: CortexOS (${s.cluster.rounds} x ${s.cluster.jobs} jobs, ${s.cluster.inflight} in flight)`,
      s.cluster.throughput,
    ),
    runRow(
      `c2 cluster: CortexOS (${s.cluster.latency_jobs} jobs, 1 in flight)`,
      s.cluster.latency,
    ),
    runRow(
      `c3 cluster: a node killed after ${s.cluster.recovery.killed_after} jobs`,
      s.cluster.recovery.run,
    ),
  ];
}

function operatorRows(s: OperatorScenarios): string[][] {
  const b = s.bulk_retry;
  const others = `o2 other jobs (${b.inflight} in flight)`;
  return [
    runRow(`${others}, before the bulk retry`, b.before),
    runRow(`${others}, during it (${b.dead_letters} retried)`, b.during),
    runRow(`${others}, after it`, b.after),
  ];
}

function operatorNotes(s: OperatorScenarios): string[] {
  const o = s.search;
  const b = s.bulk_retry;
  return [
    `o1 search: ${o.jobs} jobs written into the ledger in ${o.fill_s} s, searchable ${o.searchable_s} s after CortexOS was up; scheduler RSS ${
      fixed(o.scheduler_rss_mb, 1)
    } MB (peak ${fixed(o.scheduler_peak_rss_mb, 1)} MB)`,
    table([
      [
        `  o1 search (GET /api/jobs, x ${o.repeat})`,
        "found",
        "p50 ms",
        "p95 ms",
        "max ms",
      ],
      ...o.queries.map((q) => [
        `  ${q.name}`,
        String(q.matched),
        fixed(q.p50_ms, 1),
        fixed(q.p95_ms, 1),
        fixed(q.max_ms, 1),
      ]),
    ]),
    `o2 bulk retry: dry run matched ${b.matched}; ${b.retried} retried, ${b.refused} refused in ${
      fixed(b.seconds, 1)
    } s (${b.retries_per_s}/s, ${b.state}); other jobs during it ${
      Math.round(b.during_share * 100)
    } % of normal (${b.during.jobs_per_s} vs ${b.normal_jobs_per_s} jobs/s, the mean of before and after)`,
  ];
}

/** One line per part that ran: what it is and where it ran. */
function partLines(doc: BenchDocument): string[] {
  const about = {
    core:
      "core mode (CORTEX_DURABILITY=none): scenarios 1-5, on a nats-server of their own",
    durable:
      "durable mode: d1-d3 on nats-servers of their own, c1-c3 on a cluster of their own",
    operator:
      "operator (durable mode): o1 search and o2 bulk retry, each on a nats-server whose ledger was filled first",
  };
  return doc.parts.map((p) => about[p]);
}

function coreNotes(s: CoreScenarios): string[] {
  return [
    `CPU in cores during scenario 1: CortexOS run: ${
      cpu(s.throughput.cpu_cores.cortex)
    }`,
    `                                relay run:    ${
      cpu(s.throughput.cpu_cores.relay)
    }`,
    `CPU µs per job during scenario 1: CortexOS: ${
      us(s.throughput.cpu_us_per_job.cortex)
    }; relay: ${us(s.throughput.cpu_us_per_job.relay)}`,
    `scenario 1 through the SDK's submitMany: ${
      Math.round(s.throughput.ratio_to_raw_driver * 100)
    } % of the jobs/s of the bench's raw driver in the same rounds (${s.throughput.cortex.jobs_per_s} vs ${s.throughput.raw_driver.jobs_per_s}); CPU µs per job with the raw driver: ${
      us(s.throughput.cpu_us_per_job.raw_driver)
    }`,
    `scenario 3: ${s.fleet.heartbeats_sent} heartbeats sent; scheduler CPU ${
      fixed(s.fleet.scheduler_cpu_cores)
    } cores, peak RSS ${fixed(s.fleet.scheduler_peak_rss_mb, 1)} MB`,
    `scenario 4: scheduler memory by jobs done: ${
      memory(s.history)
    } (job table ${s.history.job_table_size})`,
    `scenario 5: ${
      s.dashboard.skipped
        ? `skipped: ${s.dashboard.note}`
        : `delivery p50 ${fixed(s.dashboard.delivery_p50_ms ?? 0, 1)} ms, p99 ${
          fixed(s.dashboard.delivery_p99_ms ?? 0, 1)
        } ms, max ${
          fixed(s.dashboard.delivery_max_ms ?? 0, 1)
        } ms; ${s.dashboard.delivered}/${s.dashboard.expected} completions counted, ${s.dashboard.rows_seen} job rows seen by the probing clients; scheduler CPU per job ${s.dashboard.scheduler_us_per_job_without} µs without clients, ${s.dashboard.scheduler_us_per_job_with} µs with`
    }`,
  ];
}

/** How long each process on the killed node took to reconnect elsewhere. */
function reconnects(times: Record<string, number | null>): string {
  const all = Object.entries(times);
  if (all.length === 0) return "no process was connected to it";
  return `reconnected to another node after the kill: ${
    all.map(([p, s]) => `${p} ${s === null ? "never" : `${fixed(s, 3)} s`}`)
      .join(", ")
  }`;
}

function durableNotes(s: DurableScenarios): string[] {
  return [
    `durable d1: CPU in cores: CortexOS run: ${
      cpu(s.durable_throughput.cpu_cores.cortex)
    }`,
    `                          floor run:    ${
      cpu(s.durable_throughput.cpu_cores.floor)
    }`,
    `durable d1: CPU µs per job: CortexOS: ${
      us(s.durable_throughput.cpu_us_per_job.cortex)
    }; floor: ${
      us(s.durable_throughput.cpu_us_per_job.floor)
    } (${s.durable_throughput.stored_writes_per_job} stored writes per durable job, 1 for the floor)`,
    `durable d3: scheduler memory by durable jobs done: ${
      memory(s.durable_history)
    } (job table ${s.durable_history.job_table_size})`,
    `cluster c1-c3: ${s.cluster.nodes} nats-server nodes on loopback, streams with ${s.cluster.stream_replicas} replicas, ${s.cluster.schedulers} scheduler replicas; c3: longest wait for a result after the node kill ${
      fixed(s.cluster.recovery.longest_gap_s)
    } s (the node back after ${
      s.cluster.recovery.down_ms / 1000
    } s; nats-server 2.9 elects new leaders 4-9 s after a leader's node dies), ${s.cluster.recovery.run.missing} jobs missing (${s.cluster.recovery.looked_up} found in the ledger)`,
    `cluster c3: node ${s.cluster.recovery.killed_node} killed; ${
      reconnects(s.cluster.recovery.reconnect_s)
    }`,
  ];
}

/** The human-readable report of `doc`: one table of runs, then the targets. */
export function render(doc: BenchDocument): string {
  const s = doc.scenarios;
  const core = hasCore(s) ? s : undefined;
  const durable = hasDurable(s) ? s : undefined;
  const operator = hasOperator(s) ? s : undefined;
  const head = [
    "run",
    "jobs/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "done",
  ];
  const rows = [
    head,
    ...(core ? coreRows(core) : []),
    ...(durable ? durableRows(durable) : []),
    ...(operator ? operatorRows(operator) : []),
  ];
  const lines = [
    `CortexOS benchmark (${doc.mode}, ${
      doc.parts.join(" and ")
    } scenarios), ${doc.started_at}, ${doc.duration_s} s`,
    `machine: ${doc.machine.nproc} cores, ${doc.machine.cpu_model}, ${doc.machine.mem_total_gib} GiB; deno ${doc.machine.deno}; nats-server ${doc.machine.nats_server}`,
    "",
    table(rows),
    "",
    ...(core ? coreNotes(core) : []),
    ...(durable ? durableNotes(durable) : []),
    ...(operator ? operatorNotes(operator) : []),
    ...partLines(doc),
    "",
    table([
      ["target", "goal", "this run", "verdict"],
      ...doc.targets.map((v) => [
        v.scenario,
        v.target,
        v.value,
        v.met === null ? "not checked" : v.met ? "met" : "NOT MET",
      ]),
    ], 4),
    "",
    "external references (quoted from the issue, not measured in this run):",
    ...Object.values(doc.external_references).map((r) => `  ${r}`),
    ...(core
      ? [
        `  CortexOS here: ${core.throughput.cortex.jobs_per_s} jobs/s (${
          fixed(core.throughput.cortex.jobs_per_s / 8000)
        }x BullMQ's 8,000), p50 ${
          fixed(core.latency.cortex.p50_ms, 3)
        } ms one at a time (goal: 2x throughput, under half of 1.1-1.3 ms)`,
      ]
      : []),
    ...(durable
      ? [
        `  durable CortexOS here: ${durable.durable_throughput.cortex.jobs_per_s} jobs/s (${
          fixed(
            durable.durable_throughput.cortex.jobs_per_s /
              BULLMQ_DURABLE_JOBS_PER_S,
          )
        }x BullMQ's 11,000; the floor here: ${durable.durable_throughput.floor.jobs_per_s} jobs/s)`,
      ]
      : []),
  ];
  return lines.join("\n");
}
