/**
 * What the dashboard's history and queue figures cost the scheduler per
 * job: each is fed `--jobs` jobs (default 200,000), three changes each
 * (pending, dispatched, completed), as the scheduler's observer calls do,
 * and the time per job is printed. In-process, no NATS. The history
 * writes its file in `--dir` (default: a new temporary folder), as the
 * scheduler does in `CORTEX_HISTORY_DIR`; `--dir :memory:` keeps it in
 * memory instead:
 *
 * ```sh
 * deno run --allow-read --allow-write scripts/bench/history_cost.ts
 * # with the SDK's job ids (a random UUID each) instead of the submit CLI's:
 * deno run --allow-read --allow-write scripts/bench/history_cost.ts --ids uuid
 * # and the heap each job held costs (the collector run before measuring):
 * deno run --allow-read --allow-write --v8-flags=--expose-gc scripts/bench/history_cost.ts
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { JobHistory } from "../../src/scheduler/job_history.ts";
import { HistoryStore } from "../../src/scheduler/history_store.ts";
import { openHistoryStore } from "../../src/scheduler/history_file.ts";
import { QueueFigures } from "../../src/scheduler/queue_figures.ts";
import { blankRecord } from "../../src/scheduler/blank_record.ts";
import type { JobRecord } from "../../src/scheduler/job_table.ts";
import { jobSummary } from "../../src/dashboard/views.ts";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "200000" },
    dir: { type: "string" },
    ids: { type: "string", default: "counted" },
  },
});
const JOBS = Number(values.jobs);
if (values.ids !== "counted" && values.ids !== "uuid") {
  console.error("--ids is counted (the submit CLI's) or uuid (the SDK's)");
  Deno.exit(2);
}
/** The submit CLI's ids (a prefix and a count), or the SDK's (a random UUID each). */
const idOf = values.ids === "uuid"
  ? () => `job-${crypto.randomUUID()}`
  : (round: number, i: number) => `job-${round}-${i}`;

function feed(name: string, changed: (record: JobRecord) => void): void {
  const times: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    for (let i = 0; i < JOBS; i++) {
      const now = Date.now();
      const r = blankRecord(idOf(round, i), {
        topic: "job.echo",
        priority: "unspecified",
        submitter: "bench",
        payloadBytes: 12,
        payloadPreview: `hello ${i}`,
        submittedAt: now,
      });
      changed(r);
      r.state = "DISPATCHED";
      r.subject = "job.echo";
      r.dispatchedAt = now;
      changed(r);
      r.state = "COMPLETED";
      r.finishedAt = now + 1;
      r.workerId = "worker-1";
      r.executionMs = 1;
      r.outputPreview = r.payloadPreview;
      changed(r);
    }
    times.push((performance.now() - start) * 1000 / JOBS);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / JOBS);
  }
  // CPU time as well as wall time: on a shared machine, the wall clock
  // also counts the turns other processes took.
  console.log(
    `${name}: ${times.map((t) => t.toFixed(2)).join(", ")} µs per job, CPU ${
      cpu.map((t) => t.toFixed(2)).join(", ")
    } µs (3 rounds of ${JOBS})`,
  );
}

/** Heap in use after a full collection, when `--expose-gc` allows one. */
function heap(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  gc();
  gc();
  return Deno.memoryUsage().heapUsed;
}

feed("nothing (the loop itself)", () => {});
const empty = heap();
const store = values.dir === ":memory:"
  ? new HistoryStore()
  : openHistoryStore(values.dir ?? Deno.makeTempDirSync(), "history-cost");
console.log(`history kept in ${store.path}`);
const history = new JobHistory(jobSummary, { store });
feed("job history", (r) => history.jobChanged(r));
const full = heap();
if (empty !== undefined && full !== undefined) {
  console.log(
    `job history: ${
      Math.round((full - empty) / history.size)
    } bytes of heap per job held (${history.size} jobs)`,
  );
}
const figures = new QueueFigures();
feed("queue figures", (r) => figures.jobChanged(r));
history.close();
