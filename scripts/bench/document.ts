/**
 * The benchmark's document: what `--json` writes, one shape per scenario.
 *
 * @module
 */
import type { RunFigures } from "./load.ts";

/** Scenario 1: throughput with many jobs in flight. */
export interface ThroughputScenario {
  jobs: number;
  inflight: number;
  workers: number;
  /** Interleaved rounds per system; figures are over all rounds. */
  rounds: number;
  cortex: RunFigures;
  relay: RunFigures;
  request_reply: RunFigures;
  /**
   * CortexOS driven by the bench's raw driver instead of the SDK's
   * `submitMany` (pre-encoded packets, results matched by the job id in
   * their bytes), in the same interleaved rounds.
   */
  raw_driver: RunFigures;
  /** CortexOS jobs/s over the relay's. */
  ratio_to_relay: number;
  /** CortexOS jobs/s through the SDK over the same through the raw driver. */
  ratio_to_raw_driver: number;
  /** CPU used by each process during the CortexOS and relay runs, in cores. */
  cpu_cores: { cortex: Record<string, number>; relay: Record<string, number> };
  /** The same as CPU µs per job (the scheduler's is its cost per job). */
  cpu_us_per_job: {
    cortex: Record<string, number>;
    /** CortexOS's processes while the raw driver ran. */
    raw_driver: Record<string, number>;
    relay: Record<string, number>;
  };
}

/** Scenario 2: one job at a time. */
export interface LatencyScenario {
  jobs: number;
  rounds: number;
  cortex: RunFigures;
  relay: RunFigures;
  request_reply: RunFigures;
  p50_ratio_to_relay: number;
  p99_ratio_to_relay: number;
}

/** Scenario 3: scenario 1 while a large fleet heartbeats. */
export interface FleetScenario {
  simulated_workers: number;
  heartbeat_ms: number;
  jobs: number;
  cortex: RunFigures;
  heartbeats_sent: number;
  /** Scheduler CPU during the run, in cores (1 = one core busy). */
  scheduler_cpu_cores: number;
  scheduler_peak_rss_mb: number;
  /** Largest backlog nats-server held for the scheduler (connz pending_bytes). */
  scheduler_max_pending_bytes: number;
  slow_consumers: number;
  /** Simulated workers the scheduler lists (GET /api/workers), or null. */
  registry_listed: number | null;
  registry_note: string;
}

/** Scenario 4: many jobs through a bounded job table. */
export interface HistoryScenario {
  jobs: number;
  job_table_size: number;
  cortex: RunFigures;
  /** Scheduler VmHWM (peak RSS) and VmRSS, MB, after N jobs. */
  checkpoints: { jobs: number; peak_rss_mb: number; rss_mb: number }[];
  /** Peak RSS at the last checkpoint over that at the first. */
  growth_ratio: number;
}

/** Scenario 5: scenario 1 with SSE clients on the dashboard. */
export interface DashboardScenario {
  skipped: boolean;
  note: string;
  clients: number;
  jobs: number;
  without_clients: RunFigures | null;
  with_clients: RunFigures | null;
  /** 1 − with/without jobs/s. */
  throughput_cost: number | null;
  /** The scheduler's CPU per job (µs) without and with the clients: the server-side cost. */
  scheduler_us_per_job_without: number | null;
  scheduler_us_per_job_with: number | null;
  /**
   * Result at the client → the first event at an SSE client whose counters
   * count the job, ms, over every job and probing client.
   */
  delivery_p50_ms: number | null;
  delivery_p99_ms: number | null;
  delivery_max_ms: number | null;
  /** Job completions the probing clients' counters showed, over jobs × probes. */
  delivered: number | null;
  /** COMPLETED job rows the probes saw (at most 40 changed jobs a delta: a sample). */
  rows_seen: number | null;
  expected: number | null;
}

/** Durable d1: throughput of durable CortexOS beside the JetStream floor. */
export interface DurableThroughputScenario {
  jobs: number;
  inflight: number;
  workers: number;
  /** Jobs each echo worker takes at once. */
  worker_concurrency: number;
  /** Interleaved rounds per system; figures are over all rounds. */
  rounds: number;
  /** JetStream writes each durable job costs (the floor: 1). */
  stored_writes_per_job: number;
  cortex: RunFigures;
  /** Client → work-queue stream → pull consumer (explicit acks) → core reply. */
  floor: RunFigures;
  /** Durable CortexOS jobs/s over the floor's. */
  ratio_to_floor: number;
  /** CPU used by each process (nats-server included) during each system's runs, in cores. */
  cpu_cores: { cortex: Record<string, number>; floor: Record<string, number> };
  /** The same as CPU µs per job. */
  cpu_us_per_job: {
    cortex: Record<string, number>;
    floor: Record<string, number>;
  };
}

/** Durable d2: one job at a time, durable CortexOS beside the floor. */
export interface DurableLatencyScenario {
  jobs: number;
  rounds: number;
  cortex: RunFigures;
  floor: RunFigures;
  p50_ratio_to_floor: number;
  p99_ratio_to_floor: number;
}

/** c1–c3: durable CortexOS on a loopback cluster (issue 13). */
export interface ClusterScenario {
  nodes: number;
  stream_replicas: number;
  schedulers: number;
  /** c1 and c3: jobs per round. */
  jobs: number;
  inflight: number;
  rounds: number;
  /** c1: all rounds together. */
  throughput: RunFigures;
  latency_jobs: number;
  /** c2: one job at a time. */
  latency: RunFigures;
  /** c3: the round with a node SIGKILLed once `killed_after` jobs were done. */
  recovery: {
    killed_after: number;
    /** Which node was killed, from 1 (the driver is on node 1). */
    killed_node: number;
    /** How long the node stayed down before it was started again. */
    down_ms: number;
    /**
     * Each process that was connected to the killed node: seconds from the
     * kill to its "reconnected" log line (`null`: it did not reconnect).
     */
    reconnect_s: Record<string, number | null>;
    /** The longest of {@linkcode reconnect_s}; `null` when none was on the node. */
    reconnect_max_s: number | null;
    /** The longest wait between two results (or the kill and the first) after the kill. */
    longest_gap_s: number;
    /** Of the jobs completed, those whose outcome the driver found in the ledger. */
    looked_up: number;
    run: RunFigures;
  };
}

/** o1: one search of the history, timed `repeat` times over HTTP. */
export interface SearchQuery {
  name: string;
  /** The query string of `GET /api/jobs`. */
  query: string;
  /** Jobs on the page it answered. */
  matched: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
}

/** o1: searches through a history of `jobs` jobs in the ledger (issue 12). */
export interface SearchScenario {
  jobs: number;
  /** Times each query was made. */
  repeat: number;
  /** Seconds to write the jobs into the ledger (before CortexOS starts). */
  fill_s: number;
  /** Seconds from CortexOS being up to a history holding every job. */
  searchable_s: number;
  queries: SearchQuery[];
  /** The slowest query's p95 and the slowest single answer, ms. */
  p95_ms: number;
  max_ms: number;
  scheduler_rss_mb: number;
  scheduler_peak_rss_mb: number;
}

/** o2: a bulk retry of `dead_letters` jobs beside other jobs (issue 12). */
export interface BulkScenario {
  dead_letters: number;
  /** Seconds to write the dead letters into the ledger. */
  fill_s: number;
  /** Other jobs: outstanding at once, and jobs per measuring run. */
  inflight: number;
  run_jobs: number;
  /** What the dry run matched. */
  matched: number;
  /** The bulk action's last state (`finished`, or `running` if it ran out of time). */
  state: string;
  retried: number;
  refused: number;
  /** The bulk retry's duration, from its start to its end. */
  seconds: number;
  retries_per_s: number;
  /** Other jobs before, during and after the bulk retry. */
  before: RunFigures;
  during: RunFigures;
  after: RunFigures;
  /** The mean of before's and after's jobs/s. */
  normal_jobs_per_s: number;
  /** During's jobs/s over normal. */
  during_share: number;
}

/** One target and whether this run met it (`null`: not measured). */
export interface TargetVerdict {
  scenario: string;
  target: string;
  value: string;
  met: boolean | null;
}

/** Scenarios 1–5, in core mode. */
export interface CoreScenarios {
  throughput: ThroughputScenario;
  latency: LatencyScenario;
  fleet: FleetScenario;
  history: HistoryScenario;
  dashboard: DashboardScenario;
}

/** Scenarios d1–d3, in durable mode. */
export interface DurableScenarios {
  /** d1: durable throughput (issue 9). */
  durable_throughput: DurableThroughputScenario;
  /** d2: durable one-at-a-time latency. */
  durable_latency: DurableLatencyScenario;
  /** d3: durable scheduler memory over many jobs. */
  durable_history: HistoryScenario;
  /** c1–c3: durable, on a three-node cluster with two scheduler replicas. */
  cluster: ClusterScenario;
}

/** o1–o2: the operator's searches and bulk actions over a big ledger. */
export interface OperatorScenarios {
  /** o1: search through the history. */
  search: SearchScenario;
  /** o2: a bulk retry of dead letters while other jobs run. */
  bulk_retry: BulkScenario;
}

/** Everything one benchmark run measured. */
export interface BenchDocument {
  mode: "full" | "quick";
  started_at: string;
  duration_s: number;
  machine: {
    nproc: number;
    cpu_model: string;
    mem_total_gib: number;
    deno: string;
    nats_server: string;
  };
  /** Which scenarios ran (`--only`): every part unless one was asked for. */
  parts: ("core" | "durable" | "operator")[];
  /** Each part's scenarios are present when that part ran. */
  scenarios:
    & Partial<CoreScenarios>
    & Partial<DurableScenarios>
    & Partial<OperatorScenarios>;
  targets: TargetVerdict[];
  /** Figures quoted from the issue, not measured here. */
  external_references: Record<string, string>;
}
