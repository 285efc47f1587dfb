/**
 * Scenario 4: a long run of jobs through a bounded job table, reading the
 * scheduler's memory at checkpoints to show it stays flat.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { NatsServer } from "../../support/nats_server.ts";
import type { Sizes } from "../args.ts";
import { Cortex, MB } from "../cluster.ts";
import { memory } from "../proc.ts";
import type { HistoryScenario } from "../report.ts";
import { describe, loadOf, log, ping, ratio, runCortex } from "../runs.ts";

/** Scenario 4 on a CortexOS of its own with a job table of the run's size. */
export async function history(
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
