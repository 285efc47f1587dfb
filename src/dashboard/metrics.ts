/**
 * `GET /metrics`: the scheduler's state in the Prometheus text format
 * (version 0.0.4), with latency histograms fed by the scheduler's observer.
 *
 * @module
 */
import { JOB_STATES, JobState } from "../contract/mod.ts";
import type { SchedulerService } from "../scheduler/service.ts";
import type { BusStatus } from "./app.ts";

/** Bucket upper bounds, in seconds: 1 ms to 1 min. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];

/** Topics tracked by name; the rest share the label `topic="_other"`, so a client cannot grow memory without bound. */
export const MAX_TOPICS = 200;
const OTHER_TOPIC = "_other";

/** A cumulative histogram with fixed buckets. */
export class Histogram {
  readonly #bounds: readonly number[];
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  /** An empty histogram with the given upper bounds, ascending. Default: {@linkcode LATENCY_BUCKETS}. */
  constructor(bounds: readonly number[] = LATENCY_BUCKETS) {
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length);
  }

  /** Adds one observation, in seconds. */
  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.#counts[i]++;
        return;
      }
    }
  }

  /** The histogram's lines, for a metric `name` with fixed `labels`. */
  render(name: string, labels = ""): string[] {
    const sep = labels ? "," : "";
    const lines: string[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.#bounds.length; i++) {
      cumulative += this.#counts[i];
      lines.push(
        `${name}_bucket{${labels}${sep}le="${this.#bounds[i]}"} ${cumulative}`,
      );
    }
    lines.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${this.#count}`);
    lines.push(`${name}_sum${labels ? `{${labels}}` : ""} ${this.#sum}`);
    lines.push(`${name}_count${labels ? `{${labels}}` : ""} ${this.#count}`);
    return lines;
  }
}

/** Escapes a label value as the text format requires. */
function label(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll(
    "\n",
    "\\n",
  );
}

const STATE_INDEX = new Map<JobState, number>(
  JOB_STATES.map((state, i) => [state, i]),
);

/** Options for {@linkcode DashboardMetrics}. */
export interface MetricsOptions {
  /** Observed for finished jobs; read for counters and workers. */
  scheduler: SchedulerService;
  /** The bus connection's state and undecodable-packet count. */
  bus: BusStatus;
  /** How many SSE clients are connected now. */
  sseClients: () => number;
  /** Epoch ms the process started. Default: now. */
  startedAt?: number;
  /** The clock. Default `Date.now`. */
  clock?: () => number;
}

/**
 * Collects job metrics from the scheduler's observer and renders everything
 * in the Prometheus text format.
 *
 * @example
 * ```ts
 * const metrics = new DashboardMetrics({ scheduler, bus, sseClients: () => hub.stats().clients });
 * app.get("/metrics", (c) => c.text(metrics.render()));
 * ```
 */
export class DashboardMetrics {
  readonly #o: MetricsOptions;
  readonly #clock: () => number;
  readonly #startedAt: number;
  /** Final jobs by topic, then by state index. */
  readonly #finished = new Map<string, Float64Array>();
  /** The latest topic counted and its counts: jobs come in runs of one topic. */
  #lastTopic = "";
  #lastCounts?: Float64Array;
  readonly #dispatch = new Histogram();
  readonly #endToEnd = new Histogram();
  readonly #unobserve: () => void;

  /** Starts observing the scheduler; {@linkcode DashboardMetrics.close} stops it. */
  constructor(options: MetricsOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
    this.#startedAt = options.startedAt ?? this.#clock();
    // In the scheduler's hot path: a map lookup and a bucket scan, no allocation.
    this.#unobserve = options.scheduler.observe({
      jobChanged: (record) => {
        const start = record.createdAt ?? record.submittedAt;
        if (record.finishedAt !== undefined) {
          this.#countFinished(record.topic, record.state);
          this.#endToEnd.observe(Math.max(0, record.finishedAt - start) / 1000);
        } else if (
          record.state === JobState.DISPATCHED &&
          !record.retriedByHand?.length
        ) {
          // A retry by hand dispatches again long after creation: not a
          // dispatch latency.
          this.#dispatch.observe(
            Math.max(0, (record.dispatchedAt ?? start) - start) / 1000,
          );
        }
      },
    });
  }

  /** Stops observing the scheduler. */
  close(): void {
    this.#unobserve();
  }

  /** Every metric, in the Prometheus text format. */
  render(): string {
    const { scheduler, bus } = this.#o;
    const c = scheduler.counters;
    const out: string[] = [];
    const metric = (
      name: string,
      type: "counter" | "gauge" | "histogram",
      help: string,
      lines: string[],
    ) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    };

    metric(
      "cortex_jobs_submitted_total",
      "counter",
      "Jobs submitted to this scheduler (bus and dashboard).",
      [`cortex_jobs_submitted_total ${c.submitted}`],
    );
    metric(
      "cortex_jobs_dispatched_total",
      "counter",
      "Jobs dispatched to a worker subject.",
      [`cortex_jobs_dispatched_total ${c.dispatched}`],
    );
    const finished: string[] = [];
    for (const [topic, counts] of this.#finished) {
      for (let i = 0; i < counts.length; i++) {
        if (counts[i] === 0) continue;
        finished.push(
          `cortex_jobs_finished_total{status="${JOB_STATES[i]}",topic="${
            label(topic)
          }"} ${counts[i]}`,
        );
      }
    }
    metric(
      "cortex_jobs_finished_total",
      "counter",
      "Jobs that reached a final state, by status and topic.",
      finished,
    );
    metric(
      "cortex_jobs_inflight",
      "gauge",
      "Jobs admitted and not yet final.",
      [`cortex_jobs_inflight ${scheduler.jobs.inflight}`],
    );
    metric(
      "cortex_job_table_size",
      "gauge",
      "Jobs held in the scheduler's job table.",
      [`cortex_job_table_size ${scheduler.jobs.size}`],
    );
    metric(
      "cortex_results_rejected_total",
      "counter",
      "Results not believed, by reason: for a job already final, for a job this scheduler does not hold in flight (forged, another core replica's, evicted), or on core NATS for a job dispatched on the durable route.",
      [
        `cortex_results_rejected_total{reason="already_final"} ${c.lateResults}`,
        `cortex_results_rejected_total{reason="unknown_job"} ${c.unknownResults}`,
        `cortex_results_rejected_total{reason="not_core_dispatched"} ${c.misroutedResults}`,
      ],
    );
    metric(
      "cortex_heartbeats_rejected_total",
      "counter",
      "Heartbeats not believed: malformed, from a new worker while the registry is full, or for a worker bound to another session.",
      [`cortex_heartbeats_rejected_total ${c.badHeartbeats}`],
    );
    metric(
      "cortex_jobs_duplicate_total",
      "counter",
      "Submissions of a job id the table already held.",
      [`cortex_jobs_duplicate_total ${c.duplicates}`],
    );
    metric(
      "cortex_job_dispatch_latency_seconds",
      "histogram",
      "From the job's creation (or its receipt, when the submitter sent no time) to its dispatch.",
      this.#dispatch.render("cortex_job_dispatch_latency_seconds"),
    );
    metric(
      "cortex_job_end_to_end_latency_seconds",
      "histogram",
      "From the job's creation (or its receipt) to its final result.",
      this.#endToEnd.render("cortex_job_end_to_end_latency_seconds"),
    );
    const durable = scheduler.durable?.stats();
    if (durable) {
      // Durable mode only: the backlog as JetStream last told it (sampled
      // every few seconds in the background, never per scrape) and the
      // ledger's counters.
      metric(
        "cortex_jobs_pending",
        "gauge",
        "Jobs in a pool's durable work queues not yet acknowledged: waiting for a worker or held by one.",
        durable.pools.map((p) =>
          `cortex_jobs_pending{pool="${label(p.pool)}"} ${p.pending}`
        ),
      );
      metric(
        "cortex_jobs_oldest_pending_seconds",
        "gauge",
        "Age of the oldest job not yet acknowledged in a pool's durable work queues; 0 when none.",
        durable.pools.map((p) =>
          `cortex_jobs_oldest_pending_seconds{pool="${
            label(p.pool)
          }"} ${p.oldestPendingSeconds}`
        ),
      );
      metric(
        "cortex_jobs_redelivered",
        "gauge",
        "Jobs not yet acknowledged that JetStream delivered more than once (num_redelivered of the pool's work consumers).",
        durable.pools.map((p) =>
          `cortex_jobs_redelivered{pool="${label(p.pool)}"} ${p.redelivered}`
        ),
      );
      metric(
        "cortex_jobs_retried_total",
        "counter",
        "Attempts after a job's first, over the ledger's retained history.",
        [`cortex_jobs_retried_total ${durable.retries}`],
      );
      metric(
        "cortex_jobs_dead_lettered_total",
        "counter",
        "Jobs that failed every attempt they were allowed, over the ledger's retained history.",
        [`cortex_jobs_dead_lettered_total ${durable.deadLettered}`],
      );
      metric(
        "cortex_jobs_duplicate_deliveries_total",
        "counter",
        "Attempt reports fenced because the attempt was recorded already, on this replica.",
        [`cortex_jobs_duplicate_deliveries_total ${durable.duplicateDeliveries}`],
      );
    }
    const workers = scheduler.workers.counts();
    metric(
      "cortex_workers",
      "gauge",
      "Known workers, by liveness.",
      Object.entries(workers).map(([state, n]) =>
        `cortex_workers{state="${state}"} ${n}`
      ),
    );
    metric(
      "cortex_bus_undecodable_packets_total",
      "counter",
      "Packets on the bus that were not a BusPacket.",
      [`cortex_bus_undecodable_packets_total ${bus.undecodable}`],
    );
    metric(
      "cortex_bus_connected",
      "gauge",
      "1 when the NATS connection is up.",
      [`cortex_bus_connected ${bus.connected ? 1 : 0}`],
    );
    metric(
      "cortex_dashboard_sse_clients",
      "gauge",
      "Dashboard event streams open now.",
      [`cortex_dashboard_sse_clients ${this.#o.sseClients()}`],
    );
    metric(
      "cortex_uptime_seconds",
      "gauge",
      "Seconds since the scheduler started.",
      [`cortex_uptime_seconds ${(this.#clock() - this.#startedAt) / 1000}`],
    );
    return out.join("\n") + "\n";
  }

  #countFinished(topic: string, state: JobState): void {
    let counts = topic === this.#lastTopic
      ? this.#lastCounts
      : this.#finished.get(topic);
    if (!counts) {
      const key = this.#finished.size < MAX_TOPICS ? topic : OTHER_TOPIC;
      counts = this.#finished.get(key);
      if (!counts) {
        counts = new Float64Array(JOB_STATES.length);
        this.#finished.set(key, counts);
      }
    }
    // A topic counted under `_other` stays there: topics are never dropped.
    this.#lastTopic = topic;
    this.#lastCounts = counts;
    counts[STATE_INDEX.get(state) ?? 0]++;
  }
}
