/**
 * What the core scheduler allocates and spends per job in-process, with or
 * without the dashboard's observers: the engine over a bus that goes
 * nowhere, fed encoded submissions and results (100 jobs in flight), as
 * benchmark scenario 1's scheduler is, without NATS or other processes.
 * Heap growth is read between full collections, so the figure is what a
 * job allocates (what the young generation's collector has to deal with),
 * steadier on a shared machine than any time:
 *
 * ```sh
 * deno run --allow-read --v8-flags=--expose-gc,--max-semi-space-size=64,--min-semi-space-size=64 \
 *   scripts/bench/engine_cost.ts --observers all
 * ```
 *
 * `--observers`: `none` (the engine alone), `views` (the queue figures,
 * the event hub with a flush every 1,500 jobs, i.e. every 100 ms at 15,000
 * jobs/s, and the metrics), `all` (those and the job history, as
 * `deno task scheduler` runs). The semi-spaces must hold a chunk of 10,000
 * jobs without a collection, hence the flags.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { parseArgs } from "node:util";
import {
  JobRequestSchema,
  JobResultSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { decodePacket, encodePacket, packet } from "../../src/bus/codec.ts";
import { RESULT, SUBMIT } from "../../src/bus/subjects.ts";
import { logger } from "../../src/log.ts";
import { nowhereBus, Tally } from "./in_process.ts";
import { Scheduler } from "../../src/scheduler/engine.ts";
import { JobTable } from "../../src/scheduler/job_table.ts";
import { QueueFigures } from "../../src/scheduler/queue_figures.ts";
import { WorkerRegistry } from "../../src/scheduler/registry.ts";
import { SubjectPolicy } from "../../src/scheduler/safety.ts";
import { NaiveStrategy } from "../../src/scheduler/strategy.ts";
import { EventHub } from "../../src/dashboard/event_hub.ts";
import { DashboardMetrics } from "../../src/dashboard/metrics.ts";
import { observeScheduler } from "../../src/dashboard/server.ts";

const { values } = parseArgs({
  options: {
    observers: { type: "string", default: "all" },
    chunks: { type: "string", default: "30" },
  },
});
const observers = values.observers;
if (!["none", "views", "all"].includes(observers)) {
  console.error("--observers must be none, views or all");
  Deno.exit(2);
}
const CHUNK = 10_000;
/** The first chunks warm the JIT and fill the job table: not counted. */
const WARM = 5;
const CHUNKS = Math.max(WARM + 1, Number(values.chunks));
const IN_FLIGHT = 100;
/** Jobs between two flushes of the event hub: 100 ms at 15,000 jobs/s. */
const FLUSH_EVERY = 1_500;

const { bus, handlers } = nowhereBus();
const scheduler = new Scheduler({
  bus,
  safety: new SubjectPolicy(),
  strategy: new NaiveStrategy(),
  registry: new WorkerRegistry({ heartbeatMs: 1_000 }),
  jobs: new JobTable({ capacity: 10_000, timeoutMs: 60_000 }),
  limits: { maxPayloadBytes: 1 << 20 },
  senderId: "bench-scheduler",
  log: logger("bench"),
});
const closers: (() => void)[] = [];
let hub: EventHub | undefined;
if (observers !== "none") {
  let figures: QueueFigures;
  if (observers === "all") {
    figures = observeScheduler(scheduler).figures;
  } else {
    const own = new QueueFigures();
    scheduler.observe({ jobChanged: (record) => own.jobChanged(record) });
    figures = own;
  }
  // Flushed here, by job count: a timer would not run inside the loop.
  hub = new EventHub(scheduler, { figures, flushMs: 3_600_000 });
  const metrics = new DashboardMetrics({
    scheduler,
    bus,
    sseClients: () => 0,
  });
  closers.push(() => hub?.close(), () => metrics.close());
}
await scheduler.start();
const onSubmit = handlers.get(SUBMIT)!;
const onResult = handlers.get(RESULT)!;
const trace = crypto.randomUUID().replaceAll("-", "");
const empty = new Uint8Array(0);

let seq = 0;
const tally = new Tally();
for (let chunk = 0; chunk < CHUNKS; chunk++) {
  // Encoded before measuring: the client's and workers' part.
  const submissions: Uint8Array[] = [];
  const results: Uint8Array[] = [];
  for (let i = 0; i < CHUNK; i++) {
    const jobId = `bench-${String(seq++).padStart(7, "0")}`;
    submissions.push(encodePacket(packet({
      case: "jobRequest",
      value: create(JobRequestSchema, { jobId, topic: "job.echo" }),
    }, { senderId: "bench-client", traceId: trace })));
    results.push(encodePacket(packet({
      case: "jobResult",
      value: create(JobResultSchema, {
        jobId,
        status: JobStatus.COMPLETED,
        workerId: "worker-1",
        output: empty,
      }),
    }, { senderId: "worker-1", traceId: "" })));
  }
  tally.chunk(CHUNK, chunk >= WARM, () => {
    for (let i = 0; i < CHUNK + IN_FLIGHT; i++) {
      if (i < CHUNK) {
        const decoded = decodePacket(submissions[i]);
        if (decoded.ok) onSubmit(decoded.packet, submissions[i], SUBMIT);
      }
      const done = i - IN_FLIGHT;
      if (done >= 0 && done < CHUNK) {
        const decoded = decodePacket(results[done]);
        if (decoded.ok) onResult(decoded.packet, results[done], RESULT);
      }
      if (i % FLUSH_EVERY === FLUSH_EVERY - 1) hub?.flush();
    }
  });
}
const { bytes, cpuUs, jobs } = tally.perJob();
console.log(
  `observers ${observers}: ${bytes} bytes allocated, ${
    cpuUs.toFixed(1)
  } CPU µs per job (collections outside the measured loops; ${jobs} jobs, ${scheduler.counters.completed} completed)`,
);
for (const close of closers) close();
scheduler.stop();
