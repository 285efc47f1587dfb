/**
 * Operator scenario o2, a bulk retry beside steady traffic (issue 12):
 * writes `sizes.bulkJobs` dead-lettered jobs (FAILED after their only
 * attempt) into the ledger of a fresh JetStream server, starts a durable
 * CortexOS on it (scheduler and two echo workers), and measures the
 * throughput of other jobs — a closed loop of `sizes.bulkInflight` jobs
 * submitted through JetStream, as the submit CLI does, in runs of
 * `sizes.bulkRunJobs` — before the bulk retry, while it runs, and after it
 * (once the retried jobs have finished). "Normal" is the mean of before and
 * after; the retried jobs share the two workers with the others.
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";
import { startNatsServer } from "../../support/nats_server.ts";
import type { LedgerEntry } from "../../../src/scheduler/ledger.ts";
import {
  type BulkProgress,
  type BulkResponse,
  JobState,
} from "../../../src/contract/mod.ts";
import type { Sizes } from "../args.ts";
import { Cortex } from "../cluster.ts";
import type { BulkScenario } from "../document.ts";
import { figures, type Run } from "../load.ts";
import { log, rawDurable } from "../runs.ts";
import { fillLedger, tenth } from "./ledger_fill.ts";

/** Job `i`: failed its only attempt and was dead-lettered. */
function entry(i: number, now: number): LedgerEntry {
  const at = now - 600_000 + i;
  const error = `upstream refused request ${i}`;
  return {
    v: 1,
    jobId: `dead-${String(i).padStart(6, "0")}`,
    traceId: crypto.randomUUID().replaceAll("-", ""),
    topic: "job.echo",
    priority: 0,
    submitter: "bulk-bench",
    contextPtr: "",
    adapterId: "",
    envVars: {},
    payloadBytes: 0,
    payloadPreview: "",
    state: JobState.FAILED,
    subject: "work.job.echo",
    maxAttempts: 1,
    attempts: [{
      attempt: 1,
      workerId: "gone-worker",
      state: JobState.FAILED,
      error,
      executionMs: 1,
      at: at + 5,
    }],
    workerId: "gone-worker",
    executionMs: 1,
    resultPtr: "",
    outputBytes: 0,
    output: "",
    error,
    deadLettered: true,
    duplicates: 0,
    submitSeq: 0,
    change: "final",
    submittedAt: at,
    dispatchedAt: at + 1,
    finishedAt: at + 5,
    deadline: at + 60_000,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** o2 on a nats-server and a durable CortexOS of its own. */
export async function bulkRetry(sizes: Sizes): Promise<BulkScenario> {
  const jobs = sizes.bulkJobs;
  await using nats = await startNatsServer();
  const now = Date.now();
  log(`o2 bulk retry: writing ${jobs} dead letters into the ledger`);
  const fillS = await fillLedger(nats, jobs, (i) => entry(i, now));
  const nc = await connect({ servers: nats.url, name: "bench-client" });
  const cortex = await Cortex.start(nats, { durable: true });
  try {
    await cortex.scheduler.waitFor(/ledger loaded: \d+ jobs/, 300_000);
    await cortex.scheduler.waitFor(/dashboard listening on/, 60_000);
    const post = async (body: unknown): Promise<BulkResponse> => {
      const res = await fetch(`${cortex.dashboardUrl}/api/jobs/bulk`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!res.ok) {
        throw new Error(`bulk: HTTP ${res.status} ${await res.text()}`);
      }
      return await res.json();
    };
    const filter = { status: [JobState.FAILED], deadLettered: true };
    // Bounded: the history is read whole at start, within the wait above.
    for (let i = 0; i < 600; i++) {
      const dry = await post({ action: "retry", filter, dryRun: true });
      if (dry.matched >= jobs) break;
      await sleep(500);
    }
    const load = () => ({
      count: sizes.bulkRunJobs,
      inflight: sizes.bulkInflight,
      deadlineMs: 60_000,
    });
    const measure = async (runs: number): Promise<Run[]> => {
      const out: Run[] = [];
      for (let i = 0; i < runs; i++) out.push(await rawDurable(nc, load()));
      return out;
    };
    await measure(2); // warm-up
    const before = figures(await measure(sizes.bulkRuns));
    log(`o2 bulk retry: other jobs before it ${before.jobs_per_s} jobs/s`);

    const dry = await post({ action: "retry", filter, dryRun: true });
    const started = await post({ action: "retry", filter, dryRun: false });
    const href = `${cortex.dashboardUrl}${started.bulk!.href}`;
    const progress = async (): Promise<BulkProgress> =>
      await (await fetch(href)).json();
    const during: Run[] = [];
    let state: BulkProgress;
    // At least one run, started while the bulk action runs; bounded by the
    // action, which ends, and at most 10 minutes of runs.
    const stopAt = Date.now() + 600_000;
    do {
      during.push(await rawDurable(nc, load()));
      state = await progress();
    } while (state.state === "running" && Date.now() < stopAt);
    const meanwhile = figures(during);
    const seconds = ((state.finishedAt ?? Date.now()) - state.startedAt) /
      1000;
    log(
      `o2 bulk retry: ${state.succeeded} retried in ${seconds.toFixed(1)} s, ` +
        `other jobs meanwhile ${meanwhile.jobs_per_s} jobs/s`,
    );
    // The retried jobs run on the same workers: let them finish first.
    for (let i = 0; i < 600; i++) {
      const left = await post({
        action: "retry",
        filter: { status: [JobState.PENDING, JobState.DISPATCHED] },
        dryRun: true,
      });
      if (left.matched === 0) break;
      await sleep(500);
    }
    const after = figures(await measure(sizes.bulkRuns));
    log(`o2 bulk retry: other jobs after it ${after.jobs_per_s} jobs/s`);
    const normal = (before.jobs_per_s + after.jobs_per_s) / 2;
    return {
      dead_letters: jobs,
      fill_s: fillS,
      inflight: sizes.bulkInflight,
      run_jobs: sizes.bulkRunJobs,
      matched: dry.matched,
      state: state.state,
      retried: state.succeeded,
      refused: state.failed,
      seconds: tenth(seconds),
      retries_per_s: Math.round(state.succeeded / Math.max(seconds, 0.001)),
      before,
      during: meanwhile,
      after,
      normal_jobs_per_s: Math.round(normal),
      during_share: normal > 0
        ? Math.round(meanwhile.jobs_per_s / normal * 1000) / 1000
        : 0,
    };
  } finally {
    await cortex.stop();
    await nc.drain();
  }
}
