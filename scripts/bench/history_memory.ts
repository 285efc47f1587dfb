/**
 * What the dashboard's job history holds in memory per job: d3's jobs (ids
 * of the submit CLI's shape, `{}` payload and output, one worker) fed to a
 * {@linkcode JobHistory} as the scheduler's observer calls do, and the live
 * heap (after a full garbage collection), the memory outside it (typed
 * arrays'), the process's resident set and the history file's size
 * measured at 20k, 100k, 200k, 250k (its capacity) and 300k jobs. In-process, no NATS; the file is made in `--dir` (default:
 * a new temporary folder):
 *
 * ```sh
 * deno run --allow-read --allow-write --v8-flags=--expose-gc scripts/bench/history_memory.ts
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { JobHistory } from "../../src/scheduler/job_history.ts";
import { openHistoryStore } from "../../src/scheduler/history_file.ts";
import { blankRecord } from "../../src/scheduler/blank_record.ts";
import { jobSummary } from "../../src/dashboard/views.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error("run with --v8-flags=--expose-gc");
  Deno.exit(2);
}

/** Live heap after two full collections, in bytes. */
function liveHeap(): number {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
}

const { values } = parseArgs({ options: { dir: { type: "string" } } });
const store = openHistoryStore(
  values.dir ?? Deno.makeTempDirSync(),
  "history-memory",
);
const history = new JobHistory(jobSummary, { store });
const base = liveHeap();
let done = 0;
for (const mark of [20_000, 100_000, 200_000, 250_000, 300_000]) {
  for (; done < mark; done++) {
    const now = Date.now();
    const r = blankRecord(`job-${crypto.randomUUID().slice(0, 8)}-${done}`, {
      topic: "job.echo",
      priority: "unspecified",
      submitter: "cortex-bench",
      payloadBytes: 2,
      payloadPreview: "{}",
      submittedAt: now,
      maxAttempts: 3,
    });
    history.jobChanged(r);
    r.state = "DISPATCHED";
    r.subject = "cortex.work.job.echo";
    r.dispatchedAt = now;
    history.jobChanged(r);
    r.state = "COMPLETED";
    r.finishedAt = now + 1;
    r.workerId = "bench-echo-1";
    r.outputPreview = "{}";
    r.outputBytes = 2;
    history.jobChanged(r);
  }
  history.flush();
  const held = liveHeap() - base;
  // Typed arrays' memory (the store's table of ids) is outside the heap.
  const external = Deno.memoryUsage().external;
  console.log(
    `${mark} jobs: ${history.size} in the history, ${
      (held / 1e6).toFixed(1)
    } MB of live heap (${(held / history.size).toFixed(0)} bytes a job), ${
      (external / 1e6).toFixed(1)
    } MB outside the heap, ${
      (Deno.memoryUsage().rss / 1e6).toFixed(1)
    } MB resident, file ${
      (Deno.statSync(store.path).size / 1e6).toFixed(1)
    } MB`,
  );
}
history.close();
