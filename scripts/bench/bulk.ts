/**
 * A bulk retry of `--jobs` dead letters (default 10,000) beside steady
 * traffic: writes the dead-lettered jobs into the ledger of a fresh
 * JetStream server, starts a durable CortexOS on it (scheduler and two echo
 * workers, as `deno task bench` does), measures the throughput of other
 * jobs (a closed loop of `--inflight` jobs submitted through JetStream, as
 * the submit CLI does) before the bulk retry and while it runs, and prints
 * both, their ratio, and how long the bulk retry took. Not part of
 * `deno task bench`: filling the ledger takes a while. Run it with:
 *
 * ```sh
 * deno run --allow-run=deno,nats-server,cat --allow-net=127.0.0.1 --allow-read \
 *   --allow-write=/tmp --allow-env scripts/bench/bulk.ts --jobs 10000
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { startNatsServer } from "../support/nats_server.ts";
import { LedgerStore } from "../../src/scheduler/ledger_store.ts";
import type { LedgerEntry } from "../../src/scheduler/ledger.ts";
import {
  type BulkProgress,
  type BulkResponse,
  JobState,
} from "../../src/contract/mod.ts";
import { Cortex } from "./cluster.ts";
import { figures, type Run } from "./load.ts";
import { rawDurable } from "./runs.ts";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "10000" },
    inflight: { type: "string", default: "50" },
    /** Jobs per measuring run; runs repeat until the window is covered. */
    run: { type: "string", default: "500" },
  },
});
const JOBS = Number(values.jobs);
const INFLIGHT = Number(values.inflight);
const RUN = Number(values.run);
const log = (line: string) => console.error(`bulk bench: ${line}`);

/** A job that failed its only attempt and was dead-lettered. */
function entry(i: number, now: number): LedgerEntry {
  const at = now - 600_000 + i;
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
      error: `upstream refused request ${i}`,
      executionMs: 1,
      at: at + 5,
    }],
    workerId: "gone-worker",
    executionMs: 1,
    resultPtr: "",
    outputBytes: 0,
    output: "",
    error: `upstream refused request ${i}`,
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

await using nats = await startNatsServer();
const nc = await connect({ servers: nats.url });
const js = jetstream(nc);
const ledger = await LedgerStore.open(js, {
  historyMs: 86_400_000,
  replicas: 1,
});
const now = Date.now();
for (let i = 0; i < JOBS; i += 1000) {
  await Promise.all(
    Array.from(
      { length: Math.min(1000, JOBS - i) },
      (_, k) => ledger.create(entry(i + k, now)),
    ),
  );
}
log(`${JOBS} dead letters written`);

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
    if (
      (await post({ action: "retry", filter, dryRun: true })).matched >= JOBS
    ) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const load = (count: number) => ({
    count,
    inflight: INFLIGHT,
    deadlineMs: 60_000,
  });
  const measure = async (runs: number): Promise<Run[]> => {
    const out: Run[] = [];
    for (let i = 0; i < runs; i++) {
      out.push(await rawDurable(nc, load(RUN)));
    }
    return out;
  };
  // Warm up, then the normal throughput.
  await measure(2);
  const before = figures(await measure(8));
  log(`normal, before: ${before.jobs_per_s} jobs/s`);

  const dry = await post({ action: "retry", filter, dryRun: true });
  const started = await post({ action: "retry", filter, dryRun: false });
  const href = `${cortex.dashboardUrl}${started.bulk!.href}`;
  const progress = async (): Promise<BulkProgress> =>
    await (await fetch(href)).json();
  const during: Run[] = [];
  let state = await progress();
  // Bounded by the bulk action, which ends: at most 10 minutes of runs.
  const stopAt = Date.now() + 600_000;
  while (state.state === "running" && Date.now() < stopAt) {
    during.push(await rawDurable(nc, load(RUN)));
    state = await progress();
  }
  const meanwhile = figures(during);
  const seconds = ((state.finishedAt ?? Date.now()) - state.startedAt) / 1000;
  // The retried jobs run on the same workers: let them finish first.
  for (let i = 0; i < 600; i++) {
    const done = await post({
      action: "retry",
      filter: { status: [JobState.PENDING, JobState.DISPATCHED] },
      dryRun: true,
    });
    if (done.matched === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const after = figures(await measure(8));
  log(`normal, after: ${after.jobs_per_s} jobs/s`);
  const normal = (before.jobs_per_s + after.jobs_per_s) / 2;
  const row = (name: string, f: typeof before) =>
    console.log(
      `| other jobs, ${name} | ${f.jobs_per_s} jobs/s, p50 ${
        f.p50_ms.toFixed(1)
      } ms, p99 ${
        f.p99_ms.toFixed(1)
      } ms (${f.completed} jobs, ${f.missing} missing) |`,
    );
  console.log(
    `| bulk retry (${
      JOBS.toLocaleString("en-US")
    } dead letters in the ledger) | figure |`,
  );
  console.log("| --- | --- |");
  console.log(`| dry run matched | ${dry.matched} |`);
  console.log(`| retried (refused) | ${state.succeeded} (${state.failed}) |`);
  console.log(
    `| bulk retry took | ${seconds.toFixed(1)} s (${
      (state.succeeded / seconds).toFixed(0)
    } retries/s) |`,
  );
  row("before", before);
  row("during the bulk retry", meanwhile);
  row("after", after);
  console.log(
    `| during / normal (mean of before and after) | ${
      (meanwhile.jobs_per_s / normal * 100).toFixed(0)
    } % |`,
  );
} finally {
  await cortex.stop();
  await nc.drain();
}
