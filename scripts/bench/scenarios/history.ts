/**
 * Scenario 4 (and durable d3): a long run of jobs through a bounded job
 * table, reading the scheduler's memory at checkpoints to show it stays
 * flat.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { NatsServer } from "../../support/nats_server.ts";
import type { Sizes } from "../args.ts";
import { Cortex, MB } from "../cluster.ts";
import { figures, type Load, type Run } from "../load.ts";
import { memory } from "../proc.ts";
import type { HistoryScenario } from "../report.ts";
import { describe, loadOf, log, ping, ratio, rawCortex } from "../runs.ts";

/** Scenario 4 on a CortexOS of its own with a job table of the run's size. */
export function history(
  nc: NatsConnection,
  nats: NatsServer,
  sizes: Sizes,
): Promise<HistoryScenario> {
  return memoryRun("4", nats, {
    checkpoints: sizes.historyCheckpoints,
    inflight: sizes.inflight,
    tableSize: sizes.historyTableSize,
    run: (load) => rawCortex(nc, load),
  });
}

/** What {@linkcode memoryRun} runs. */
export interface MemoryRunOptions {
  /** Scheduler memory is read after this many jobs; the last is the run's size. */
  checkpoints: number[];
  inflight: number;
  /** The scheduler's job table (`CORTEX_JOB_TABLE_SIZE`). */
  tableSize: number;
  /** Durable mode for the CortexOS started. */
  durable?: boolean;
  /** Runs one load against the CortexOS started. */
  run: (load: Load) => Promise<Run>;
}

/**
 * Runs `options.checkpoints`' last count of jobs through a CortexOS of its
 * own (started here, stopped after), reading the scheduler's peak and
 * current RSS at each checkpoint. `name` prefixes the progress lines.
 */
export async function memoryRun(
  name: string,
  nats: NatsServer,
  options: MemoryRunOptions,
): Promise<HistoryScenario> {
  const cortex = await Cortex.start(nats, {
    jobTableSize: options.tableSize,
    durable: options.durable,
  });
  try {
    const once = async (load: Load) => figures(await options.run(load));
    await ping("CortexOS", once);
    const checkpoints: HistoryScenario["checkpoints"] = [];
    const readings: Promise<void>[] = [];
    const jobs = options.checkpoints[options.checkpoints.length - 1];
    const run = await once(
      loadOf(jobs, options.inflight, {
        checkpoints: options.checkpoints,
        onCheckpoint: (done) => {
          readings.push(
            memory(cortex.scheduler.pid).then((m) => {
              checkpoints.push({
                jobs: done,
                peak_rss_mb: Math.round(m.hwm / MB * 10) / 10,
                rss_mb: Math.round(m.rss / MB * 10) / 10,
              });
              log(
                `${name} after ${done} jobs: scheduler peak RSS ${
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
    describe(`${name} CortexOS`, run);
    const first = checkpoints[0]?.peak_rss_mb ?? 0;
    const last = checkpoints[checkpoints.length - 1]?.peak_rss_mb ?? 0;
    return {
      jobs,
      job_table_size: options.tableSize,
      cortex: run,
      checkpoints,
      growth_ratio: ratio(last, first),
    };
  } finally {
    await cortex.stop();
  }
}
