/**
 * Scenario 5: what SSE clients on the dashboard cost the scheduler, and how
 * late they see each job.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { summarize } from "../../../src/latency.ts";
import { ROOT } from "../../permissions.ts";
import type { Sizes } from "../args.ts";
import { type Cortex, denoChild } from "../cluster.ts";
import { figures } from "../load.ts";
import { cpuSeconds } from "../proc.ts";
import type { DashboardScenario } from "../report.ts";
import {
  cortexRun,
  describe,
  loadOf,
  ratio,
  rawCortex,
  requests,
} from "../runs.ts";

/**
 * Scenario 5: scenario 1 without, then with, SSE clients on the dashboard's
 * `GET /api/events`. Skipped (with a note) when the scheduler has no such
 * endpoint yet.
 */
export async function dashboard(
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
    rows_seen: null,
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
      await cortexRun(
        nc,
        loadOf(sizes.sseJobs, sizes.inflight, { arrivals }),
        reqs,
      ),
    );
    const withCpu = (await cpu()) - mark;
    describe(`5 CortexOS, ${sizes.sseClients} SSE clients`, withClients);
    // Deltas are coalesced every ~100 ms: give the last ones time to arrive.
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
      counts: [number, number][][];
      omitted: number[];
    };
    // The rows: the stream carries at most 40 changed jobs per delta (the
    // newest of each), so at these rates they are a sample of the jobs.
    const rows: number[] = [];
    for (const probe of seen.arrivals) {
      for (const [jobId, at] of Object.entries(probe)) {
        const i = Number(jobId.slice(jobId.lastIndexOf("-") + 1));
        if (arrivals[i] > 0) rows.push(at - arrivals[i]);
      }
    }
    const delays = countedDelays(arrivals, seen.counts);
    const d = summarize(delays);
    const sample = summarize(rows);
    const r1 = (x: number) => Math.round(x * 10) / 10;
    return {
      skipped: false,
      note:
        `${seen.events} SSE events read; delay measured on ${sizes.sseProbes} probing clients: to the first event whose counters count the job (every job); the job rows carried (${rows.length}, ${
          seen.omitted.reduce((a, b) => a + b, 0)
        } changes left out as jobsOmitted): p50 ${r1(sample.p50)} ms, p99 ${
          r1(sample.p99)
        } ms`,
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
      rows_seen: rows.length,
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

/**
 * Per probe and job, from the job's result at the load client to the first
 * event at the probe whose `completed` counter counts it: the k-th result to
 * arrive is counted once the counter has grown by k since the probe's first
 * event (no other job runs meanwhile). An event before the result (the
 * scheduler counted it first) is a delay of 0.
 */
function countedDelays(
  arrivals: Float64Array,
  counts: [number, number][][],
): number[] {
  const done = [...arrivals].filter((at) => at > 0).sort((a, b) => a - b);
  const delays: number[] = [];
  for (const events of counts) {
    if (events.length === 0) continue;
    const base = events[0][1];
    let e = 0;
    for (const [k, at] of done.entries()) {
      while (e < events.length && events[e][1] - base < k + 1) e++;
      if (e === events.length) break;
      delays.push(Math.max(0, events[e][0] - at));
    }
  }
  return delays;
}
