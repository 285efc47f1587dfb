/**
 * Scenario 3: scenario 1 while a simulated fleet of workers heartbeats,
 * watching the scheduler's CPU, memory and NATS backlog.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { ROOT } from "../../permissions.ts";
import type { NatsServer } from "../../support/nats_server.ts";
import type { Sizes } from "../args.ts";
import {
  Cortex,
  denoChild,
  HEARTBEAT_MS,
  MB,
  SCHEDULER_ID,
} from "../cluster.ts";
import type { FleetScenario } from "../report.ts";
import { CpuWindow, memory } from "../proc.ts";
import { describe, loadOf, ping, runCortex } from "../runs.ts";

/** GET `url` as JSON; `undefined` when nothing answers or it is a 404. */
async function getJson(url: string): Promise<unknown | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    return await response.json();
  } catch {
    return undefined;
  }
}

/** How many workers of pool `sim` the dashboard's `/api/workers` lists. */
async function listedSimWorkers(cortex: Cortex): Promise<number | undefined> {
  const body = await getJson(`${cortex.dashboardUrl}/api/workers`);
  if (body === undefined) return undefined;
  const list = Array.isArray(body)
    ? body
    : Array.isArray((body as { workers?: unknown }).workers)
    ? (body as { workers: unknown[] }).workers
    : undefined;
  if (!list) return undefined;
  return list.filter((w) => {
    const worker = w as { workerId?: string; worker_id?: string };
    return (worker.workerId ?? worker.worker_id ?? "").startsWith("sim-");
  }).length;
}

/** Scenario 3 on a CortexOS of its own, so the fleet leaves nothing behind. */
export async function fleet(
  nc: NatsConnection,
  nats: NatsServer,
  sizes: Sizes,
): Promise<FleetScenario> {
  const cortex = await Cortex.start(nats);
  const slow = cortex.scheduler.count(/slow consumer/);
  const sim = denoChild("fleet", [
    "run",
    "--no-prompt",
    `--allow-net=127.0.0.1:${nats.port}`,
    `${ROOT}/scripts/bench/fleet.ts`,
    nats.url,
    String(sizes.fleetWorkers),
    String(HEARTBEAT_MS),
  ], { stdin: true });
  try {
    await ping("CortexOS", (load) => runCortex(nc, load));
    await runCortex(nc, loadOf(sizes.warmup, sizes.inflight));
    await sim.waitFor(/^ready$/);
    // Let the registry see every worker at least once more before the run.
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS));

    const slowBefore = await slowConsumers(nats);
    let maxPending = 0;
    const sampling = setInterval(async () => {
      const pending = await pendingBytes(nats, SCHEDULER_ID);
      if (pending > maxPending) maxPending = pending;
    }, 100);
    const window = new CpuWindow({ scheduler: cortex.scheduler.pid });
    await window.start();
    const run = await runCortex(nc, loadOf(sizes.fleetJobs, sizes.inflight));
    const cpu = (await window.stop()).scheduler;
    clearInterval(sampling);
    describe(`3 CortexOS + ${sizes.fleetWorkers} workers`, run);
    const listed = await listedSimWorkers(cortex);
    const peak = (await memory(cortex.scheduler.pid)).hwm;
    const slowAfter = await slowConsumers(nats);
    await sim.stop();
    const summary = JSON.parse(
      sim.lines.findLast((l) => l.startsWith("{")) ?? '{"sent":0}',
    );
    return {
      simulated_workers: sizes.fleetWorkers,
      heartbeat_ms: HEARTBEAT_MS,
      jobs: sizes.fleetJobs,
      cortex: run,
      heartbeats_sent: summary.sent,
      scheduler_cpu_cores: Math.round(cpu * 100) / 100,
      scheduler_peak_rss_mb: Math.round(peak / MB * 10) / 10,
      scheduler_max_pending_bytes: maxPending,
      slow_consumers: slowAfter - slowBefore + slow(),
      registry_listed: listed ?? null,
      registry_note: listed === undefined
        ? "not checked (no dashboard: GET /api/workers did not answer)"
        : "GET /api/workers",
    };
  } finally {
    await sim.stop();
    await cortex.stop();
  }
}

async function slowConsumers(nats: NatsServer): Promise<number> {
  const varz = await getJson(`${nats.monitorUrl}/varz`) as
    | { slow_consumers?: number }
    | undefined;
  return varz?.slow_consumers ?? 0;
}

async function pendingBytes(nats: NatsServer, name: string): Promise<number> {
  const connz = await getJson(`${nats.monitorUrl}/connz`) as
    | { connections?: { name?: string; pending_bytes?: number }[] }
    | undefined;
  let pending = 0;
  for (const c of connz?.connections ?? []) {
    if (c.name === name) pending = Math.max(pending, c.pending_bytes ?? 0);
  }
  return pending;
}
