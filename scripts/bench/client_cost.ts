/**
 * The bench client's own CPU per job, CortexOS's driver (the SDK's
 * `submitMany`, {@linkcode runSubmitMany}) against the raw driver
 * ({@linkcode runPubSub}), over a fake connection that answers every job
 * with a result encoded beforehand: no server, no scheduler, only client
 * code runs, so the difference is what the SDK costs a job. With
 * `others` > 0, each job's result comes after that many results of other
 * clients' jobs, as on a busy system, where every client that submits is
 * sent every result.
 *
 * ```sh
 * deno run scripts/bench/client_cost.ts [jobs] [rounds] [others]   # 50,000 jobs, 3 rounds, 0 others
 * ```
 *
 * @module
 */
import process from "node:process";
import { create } from "@bufbuild/protobuf";
import {
  JobResultSchema,
  JobStatus,
} from "../../src/gen/cortex/v1/cortex_pb.ts";
import { encodePacket, packet } from "../../src/bus/codec.ts";
import { Cortex } from "../../src/sdk/cortex.ts";
import { logger } from "../../src/log.ts";
import {
  CORTEX_TARGET,
  type Load,
  Requests,
  runPubSub,
  runSubmitMany,
} from "./load.ts";
import { fieldRange, readIndex } from "./wire.ts";

type Callback = (error: unknown, msg: { data: Uint8Array }) => void;

/**
 * What the drivers use of a NATS connection. Published jobs are answered in
 * the next macrotask, all of a turn's together, as a socket read would
 * bring them.
 */
function fakeConnection(results: Uint8Array[], others: Uint8Array[]) {
  let callback: Callback | undefined;
  let queue: Uint8Array[] = [];
  let sent = 0;
  const answer = () => {
    const jobs = queue;
    queue = [];
    for (const bytes of jobs) {
      for (let i = 0; i < perJob; i++) {
        callback?.(null, { data: others[sent++ % others.length] });
      }
      const index = readIndex(bytes, fieldRange(bytes, 10, 1)![1]);
      callback?.(null, { data: results[index] });
    }
  };
  const publish = (_subject: string, bytes: Uint8Array) => {
    if (queue.push(bytes) === 1) setTimeout(answer, 0);
  };
  return {
    info: { max_payload: 1 << 20 },
    getServer: () => "fake",
    publish,
    // The probe for a scheduler: sent, and "timed out" (someone listens).
    request(subject: string, bytes: Uint8Array) {
      publish(subject, bytes);
      return Promise.reject(new Error("timeout"));
    },
    subscribe(_subject: string, options: { callback: Callback }) {
      callback = options.callback;
      return { unsubscribe: () => callback = undefined };
    },
    flush: () => Promise.resolve(),
  };
}

function resultsFor(requests: Requests, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) =>
    encodePacket(packet({
      case: "jobResult",
      value: create(JobResultSchema, {
        jobId: requests.id(i),
        status: JobStatus.COMPLETED,
        workerId: "echo-1a2b3c4d",
        attempts: 1,
      }),
    }, { senderId: "echo-1a2b3c4d" })));
}

/** This process's CPU seconds so far (no permission needed, unlike /proc). */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

const jobs = Number(Deno.args[0] ?? 50_000);
const rounds = Number(Deno.args[1] ?? 3);
const perJob = Number(Deno.args[2] ?? 0);
const others = resultsFor(new Requests("other", "job.echo"), 1_000);
const load: Load = { count: jobs, inflight: 100, deadlineMs: 600_000 };
for (let round = 1; round <= rounds; round++) {
  for (const driver of ["raw", "submitMany"]) {
    const requests = new Requests(`c${round}${driver.length}`, "job.echo");
    const nc = fakeConnection(resultsFor(requests, jobs), others) as never;
    const before = cpuSeconds();
    const run = driver === "raw"
      ? await runPubSub(nc, CORTEX_TARGET, requests, load)
      : await runSubmitMany(
        new Cortex(nc, "core", logger("bench"), "bench-client"),
        "job.echo",
        requests,
        load,
      );
    const us = ((cpuSeconds() - before) * 1e6 / run.completed).toFixed(1);
    console.log(`round ${round} ${driver}: ${us} µs of CPU a job`);
  }
}
