/**
 * Scenarios 1 and 2: throughput (many jobs in flight) and latency (one job at
 * a time), CortexOS against the relay and request/reply, in interleaved
 * rounds.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Sizes } from "../args.ts";
import { type Baselines, type Cortex, WORKERS } from "../cluster.ts";
import { figures } from "../load.ts";
import type { LatencyScenario, ThroughputScenario } from "../report.ts";
import {
  interleaved,
  loadOf,
  ratio,
  rawCortex,
  rawCortexDriver,
  rawRelay,
  rawReply,
  roundCores,
  usPerJob,
} from "../runs.ts";

/** Scenario 1: jobs/s with `inflight` jobs in flight, and the CPU it takes. */
export async function throughput(
  nc: NatsConnection,
  sizes: Sizes,
  cortex: Cortex,
  baselines: Baselines,
  natsPid: number,
): Promise<ThroughputScenario> {
  const { throughputJobs: jobs, inflight, rounds } = sizes;
  const [relay, reply, cortexRuns, driverRuns] = await interleaved(
    rounds,
    [
      {
        name: "1 relay",
        run: (l) => rawRelay(nc, l),
        pids: baselines.relayPids(),
      },
      { name: "1 request/reply", run: (l) => rawReply(nc, l) },
      { name: "1 CortexOS", run: (l) => rawCortex(nc, l), pids: cortex.pids() },
      {
        name: "1 CortexOS, raw driver",
        run: (l) => rawCortexDriver(nc, l),
        pids: cortex.pids(),
      },
    ],
    () => loadOf(jobs, inflight),
    natsPid,
  );
  const c = figures(cortexRuns.runs);
  const r = figures(relay.runs);
  const d = figures(driverRuns.runs);
  return {
    jobs,
    inflight,
    workers: WORKERS,
    rounds,
    cortex: c,
    relay: r,
    request_reply: figures(reply.runs),
    raw_driver: d,
    ratio_to_relay: ratio(c.jobs_per_s, r.jobs_per_s),
    ratio_to_raw_driver: ratio(c.jobs_per_s, d.jobs_per_s),
    cpu_cores: {
      cortex: roundCores(cortexRuns.cores),
      relay: roundCores(relay.cores),
    },
    cpu_us_per_job: {
      cortex: usPerJob(cortexRuns.cores, c.jobs_per_s),
      raw_driver: usPerJob(driverRuns.cores, d.jobs_per_s),
      relay: usPerJob(relay.cores, r.jobs_per_s),
    },
  };
}

/** Scenario 2: the round trip of jobs sent one at a time. */
export async function latency(
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
