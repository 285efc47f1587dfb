/**
 * d3 alone, with what the scheduler's memory is made of: a fresh durable
 * scheduler (as `deno task bench` starts it, job table of 10,000) on a fresh
 * nats-server, 200,000 jobs with 100 in flight, and at 20k, 100k and 200k
 * jobs its peak and current RSS and the resident size of each kind of
 * mapping in `/proc/<pid>/smaps` (`[heap]`, the C allocator's main heap;
 * `[anon]`, V8's pages and the allocator's other arenas among them; files).
 * `KEY=VALUE` arguments go into the scheduler's environment only, e.g. to
 * try an allocator setting. Prints one JSON line.
 *
 * ```sh
 * deno run --allow-run=deno,nats-server,cat --allow-net=127.0.0.1 --allow-write=/tmp --allow-env=CORTEX_NATS_SERVER --allow-sys=loadavg \
 *   scripts/bench/d3_memory.ts [MALLOC_ARENA_MAX=2]
 * ```
 *
 * `/proc/<pid>/…` is read by `cat`, as the bench reads it (Deno grants it
 * only with --allow-all).
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";
import { startNatsServer } from "../support/nats_server.ts";
import { Cortex, MB } from "./cluster.ts";
import { figures } from "./load.ts";
import { parseMemory, readProc } from "./proc.ts";
import { loadOf, log, ping, rawDurable } from "./runs.ts";
import { FULL } from "./args.ts";

/** Resident MB of each kind of mapping in a `/proc/<pid>/smaps` text, largest first. */
export function residentByMapping(smaps: string): Record<string, number> {
  const kb: Record<string, number> = {};
  let name = "";
  for (const line of smaps.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      // Files by their base name; anonymous mappings have none.
      name = head[1] === "" ? "[anon]" : head[1].replace(/^.*\//, "");
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kb[name] = (kb[name] ?? 0) + Number(rss[1]);
  }
  return Object.fromEntries(
    Object.entries(kb)
      .filter(([, v]) => v >= 1024)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, Math.round(v / 1024 * 10) / 10]),
  );
}

async function reading(pid: number, jobs: number) {
  const [status, smaps] = await Promise.all([
    readProc([pid], "status"),
    readProc([pid], "smaps"),
  ]);
  const { hwm, rss } = parseMemory(status[0]);
  const mb = (bytes: number) => Math.round(bytes / MB * 10) / 10;
  return {
    jobs,
    peak_rss_mb: mb(hwm),
    rss_mb: mb(rss),
    resident_mb: residentByMapping(smaps[0]),
  };
}

const schedulerEnv = Object.fromEntries(
  Deno.args.map((
    a,
  ) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]),
);
const checkpoints = FULL.durableHistoryCheckpoints;
const nats = await startNatsServer();
const nc = await connect({
  servers: nats.url,
  name: "bench-d3-memory",
  noAsyncTraces: true,
});
const cortex = await Cortex.start(nats, {
  jobTableSize: FULL.historyTableSize,
  durable: true,
  schedulerEnv,
});
try {
  const pid = cortex.scheduler.pid;
  await ping("durable CortexOS", async (l) => figures(await rawDurable(nc, l)));
  const readings = [await reading(pid, 0)];
  // Read as each checkpoint passes (by cat, a few ms after), kept in order.
  const pending: Promise<unknown>[] = [];
  const run = figures(
    await rawDurable(
      nc,
      loadOf(checkpoints[checkpoints.length - 1], FULL.inflight, {
        checkpoints,
        onCheckpoint: (done) => {
          pending.push(
            reading(pid, done).then((r) => {
              readings.push(r);
              log(`d3 after ${done} jobs: ${JSON.stringify(r)}`);
            }),
          );
        },
      }),
    ),
  );
  await Promise.all(pending);
  readings.sort((a, b) => a.jobs - b.jobs);
  console.log(JSON.stringify({
    at: new Date().toISOString(),
    load: Deno.loadavg(),
    scheduler_env: schedulerEnv,
    jobs_per_s: run.jobs_per_s,
    completed: run.completed,
    readings,
  }));
} finally {
  await cortex.stop();
  await nc.close();
  await nats.stop();
}
// As bench.ts: the SDK client of runs.ts keeps its result subscription (and
// so the event loop) alive after the connection closes.
Deno.exit(0);
