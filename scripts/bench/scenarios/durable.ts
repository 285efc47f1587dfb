/**
 * Durable scenarios d1–d3: CortexOS in durable mode
 * (`CORTEX_DURABILITY=jetstream`) beside the JetStream floor of one stored
 * hop, measured in the same run, each on a nats-server of its own (so the
 * durable streams never capture the core scenarios' submissions):
 *
 * - d1 throughput: jobs with `inflight` in flight, durable CortexOS and the
 *   floor in interleaved rounds, with the CPU of every process;
 * - d2 latency: jobs one at a time, the same two;
 * - d3 history: a fresh durable scheduler's memory after many durable jobs.
 *
 * Jobs are submitted through the SDK's `submitMany` in durable mode, as the
 * submit CLI does: a JetStream publish with message id = job id, its
 * PubAck awaited; the result is awaited on `sys.job.result`. The floor's
 * jobs go through the raw driver, its answer on its core subject.
 *
 * @module
 */
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { type NatsServer, startNatsServer } from "../../support/nats_server.ts";
import type { Sizes } from "../args.ts";
import { Cortex, Floor, WORKER_CONCURRENCY, WORKERS } from "../cluster.ts";
import { figures, type Load } from "../load.ts";
import type {
  DurableLatencyScenario,
  DurableThroughputScenario,
  HistoryScenario,
} from "../report.ts";
import {
  interleaved,
  loadOf,
  log,
  ping,
  ratio,
  rawDurable,
  rawFloor,
  roundCores,
  usPerJob,
} from "../runs.ts";
import { memoryRun } from "./history.ts";

/** Stored writes per durable job: submission, ledger create, dispatch, attempt report, ledger update. */
export const STORED_WRITES_PER_JOB = 5;

/** The three durable scenarios' results. */
export interface DurableResults {
  throughput: DurableThroughputScenario;
  latency: DurableLatencyScenario;
  history: HistoryScenario;
}

/** A client connection as CortexOS's processes make them (no async traces). */
function client(nats: NatsServer, name: string): Promise<NatsConnection> {
  return connect({ servers: nats.url, name, noAsyncTraces: true });
}

/** Runs d1 and d2, then d3, each on a nats-server of its own. */
export async function durable(
  sizes: Sizes,
  options: { profile?: string } = {},
): Promise<DurableResults> {
  const { throughput, latency } = await speed(sizes, options);
  const history = await durableHistory(sizes);
  return { throughput, latency, history };
}

async function speed(
  sizes: Sizes,
  options: { profile?: string },
): Promise<Omit<DurableResults, "history">> {
  const nats = await startNatsServer();
  let nc: NatsConnection | undefined;
  let floor: Floor | undefined;
  let cortex: Cortex | undefined;
  try {
    nc = await client(nats, "bench-durable-client");
    const js = jetstream(nc);
    log(`durable: nats-server on ${nats.url}; starting the floor and CortexOS`);
    [floor, cortex] = await Promise.all([
      Floor.start(nats, nc),
      Cortex.start(nats, { durable: true, profile: options.profile }),
    ]);
    const c = nc;
    const runFloor = (load: Load) => rawFloor(c, js, load);
    const runDurable = (load: Load) => rawDurable(c, load);
    await ping("JetStream floor", async (l) => figures(await runFloor(l)));
    await ping("durable CortexOS", async (l) => figures(await runDurable(l)));
    log(`durable: warming up (${sizes.warmup} jobs each)`);
    await runFloor(loadOf(sizes.warmup, sizes.inflight));
    await runDurable(loadOf(sizes.warmup, sizes.inflight));
    await runDurable(loadOf(Math.min(200, sizes.warmup), 1));

    const [floorRuns, cortexRuns] = await interleaved(
      sizes.rounds,
      [
        { name: "d1 floor", run: runFloor, pids: floor.pids() },
        { name: "d1 durable CortexOS", run: runDurable, pids: cortex.pids() },
      ],
      () => loadOf(sizes.durableJobs, sizes.inflight),
      nats.pid,
    );
    const tc = figures(cortexRuns.runs);
    const tf = figures(floorRuns.runs);
    const throughput: DurableThroughputScenario = {
      jobs: sizes.durableJobs,
      inflight: sizes.inflight,
      workers: WORKERS,
      worker_concurrency: WORKER_CONCURRENCY,
      rounds: sizes.rounds,
      stored_writes_per_job: STORED_WRITES_PER_JOB,
      cortex: tc,
      floor: tf,
      ratio_to_floor: ratio(tc.jobs_per_s, tf.jobs_per_s),
      cpu_cores: {
        cortex: roundCores(cortexRuns.cores),
        floor: roundCores(floorRuns.cores),
      },
      cpu_us_per_job: {
        cortex: usPerJob(cortexRuns.cores, tc.jobs_per_s),
        floor: usPerJob(floorRuns.cores, tf.jobs_per_s),
      },
    };

    const rounds = sizes.latencyRounds;
    const perRound = Math.ceil(sizes.durableLatencyJobs / rounds);
    const [floorOnes, cortexOnes] = await interleaved(
      rounds,
      [
        { name: "d2 floor", run: runFloor },
        { name: "d2 durable CortexOS", run: runDurable },
      ],
      () => loadOf(perRound, 1),
      nats.pid,
    );
    const lc = figures(cortexOnes.runs);
    const lf = figures(floorOnes.runs);
    const latency: DurableLatencyScenario = {
      jobs: perRound * rounds,
      rounds,
      cortex: lc,
      floor: lf,
      p50_ratio_to_floor: ratio(lc.p50_ms, lf.p50_ms),
      p99_ratio_to_floor: ratio(lc.p99_ms, lf.p99_ms),
    };
    return { throughput, latency };
  } finally {
    await cortex?.stop();
    await floor?.stop();
    await nc?.close();
    await nats.stop();
  }
}

/** d3: a fresh durable scheduler (and ledger) through the history's jobs. */
async function durableHistory(sizes: Sizes): Promise<HistoryScenario> {
  const nats = await startNatsServer();
  let nc: NatsConnection | undefined;
  try {
    nc = await client(nats, "bench-durable-history");
    const c = nc;
    return await memoryRun("d3", nats, {
      checkpoints: sizes.durableHistoryCheckpoints,
      inflight: sizes.inflight,
      tableSize: sizes.historyTableSize,
      durable: true,
      run: (load) => rawDurable(c, load),
    });
  } finally {
    await nc?.close();
    await nats.stop();
  }
}
