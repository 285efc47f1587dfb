/**
 * What the dashboard's job history holds in memory per job: d3's jobs (ids
 * of the submit CLI's shape, `{}` payload and output, one worker) fed to a
 * {@linkcode JobHistory} as the scheduler's observer calls do, and the live
 * heap measured after a full garbage collection at 20k, 100k, 200k, 250k
 * (its capacity) and 300k jobs. In-process, no NATS:
 *
 * ```sh
 * deno run --v8-flags=--expose-gc scripts/bench/history_memory.ts
 * ```
 *
 * @module
 */
import { JobHistory } from "../../src/scheduler/job_history.ts";
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

const history = new JobHistory(jobSummary);
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
  console.log(
    `${mark} jobs: ${history.size} in the history, ${
      (held / 1e6).toFixed(1)
    } MB of live heap, ${(held / history.size).toFixed(0)} bytes a job`,
  );
}
