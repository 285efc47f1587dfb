/**
 * The submit CLI's run: publish the jobs with at most `concurrency` in
 * flight, match each result to its job, give up on a job after its timeout,
 * and say at once when no scheduler listens.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { JobRequestSchema } from "../gen/cortex/v1/cortex_pb.ts";
import {
  decodePacket,
  encodePacket,
  newTraceId,
  packet,
} from "../bus/codec.ts";
import type { JobResult } from "../bus/messages.ts";
import type { Durability } from "../bus/durable/mode.ts";
import { RESULT, SUBMIT } from "../bus/subjects.ts";
import { finalState, JobState } from "../contract/mod.ts";
import {
  firstJob,
  JobStore,
  lookUpMissed,
  NO_STREAM,
  oversizeProblem,
} from "../sdk/wire.ts";
export { oversizeProblem } from "../sdk/wire.ts";
import type { SubmitOptions } from "./options.ts";
import {
  type Counts,
  MISSING,
  missingLine,
  type Outcome,
  outcomeLine,
  type Output,
  submittedLine,
  summaryLines,
} from "./output.ts";

function noStreamError(nc: NatsConnection): number {
  console.error(
    `submit: ${NO_STREAM} at ${nc.getServer()}: start the scheduler on this server once in durable mode (CORTEX_DURABILITY=auto or jetstream: it makes the streams), or submit with CORTEX_DURABILITY=none`,
  );
  return 2;
}

function noSchedulerError(nc: NatsConnection): number {
  console.error(
    `submit: no scheduler is listening on ${SUBMIT} at ${nc.getServer()}: start one with \`deno task scheduler\``,
  );
  return 2;
}

/**
 * Publishes the jobs `options` describe over `nc` and, unless told not to
 * wait, prints each result and a summary to `out`.
 *
 * @returns the exit code: 0 when every job completed, 1 when any ended
 * otherwise, 2 when a result never arrived, no scheduler listens, or a job
 * is too large for the server to carry.
 * @example
 * ```ts
 * const code = await submitJobs(nc, options, new Output());
 * ```
 */
export async function submitJobs(
  nc: NatsConnection,
  options: SubmitOptions,
  out: Output,
  durability: Durability = "core",
): Promise<number> {
  const js = durability === "jetstream"
    ? new JobStore(jetstream(nc))
    : undefined;
  const senderId = `submit-${crypto.randomUUID().slice(0, 8)}`;
  const prefix = `job-${crypto.randomUUID().slice(0, 8)}`;
  const jobId = (i: number) =>
    options.count === 1 ? prefix : `${prefix}-${i + 1}`;
  const encode = (i: number) =>
    encodePacket(packet({
      case: "jobRequest",
      value: create(JobRequestSchema, {
        jobId: jobId(i),
        topic: options.topic,
        priority: options.priority,
        payload: options.payload,
        maxAttempts: options.maxAttempts,
      }),
    }, { senderId, traceId: newTraceId() }));

  // The last job's id is the longest, so its packet is the largest.
  const tooLarge = oversizeProblem(
    encode(options.count - 1).length,
    nc.info?.max_payload,
    nc.getServer(),
  );
  if (tooLarge) {
    console.error(`submit: ${tooLarge}`);
    return 2;
  }

  if (!options.wait) {
    if (js) {
      for (let i = 0; i < options.count; i++) {
        const failed = await js.store(jobId(i), encode(i));
        if (failed === NO_STREAM) return noStreamError(nc);
        if (failed) {
          console.error(`submit: job ${jobId(i)} ${failed}`);
          return 2;
        }
      }
    } else {
      if (!await firstJob(nc, encode(0), 200)) return noSchedulerError(nc);
      for (let i = 1; i < options.count; i++) nc.publish(SUBMIT, encode(i));
      await nc.flush();
    }
    out.line(submittedLine(options.count, options.topic, options.json));
    return 0;
  }

  const inflight = new Map<string, number>(); // job id → sent at (ms)
  const counts: Counts = {};
  const rtts: number[] = [];
  let retried = 0;
  let dead = 0;
  let next = 0;
  let done = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => finished = resolve);
  const decoder = new TextDecoder();
  const started = performance.now();

  const report = (o: Outcome) => {
    counts[o.status] = (counts[o.status] ?? 0) + 1;
    out.line(outcomeLine(o, options.json));
  };
  const settle = () => {
    done++;
    if (next < options.count) send();
    if (done === options.count) finished();
  };
  let noScheduler = false;
  let noStream = false;
  const missing = (id: string, why: string) => {
    inflight.delete(id);
    counts[MISSING] = (counts[MISSING] ?? 0) + 1;
    out.line(missingLine(id, why, options.json));
    settle();
  };
  const send = () => {
    const i = next++;
    const bytes = encode(i);
    const id = jobId(i);
    inflight.set(id, performance.now());
    if (js) {
      js.store(id, bytes).then((failed) => {
        if (failed === NO_STREAM && i === 0) {
          noStream = true;
          finished();
        } else if (failed && inflight.has(id)) missing(id, failed);
      });
      return;
    }
    if (i > 0) return nc.publish(SUBMIT, bytes);
    firstJob(nc, bytes, 1_000).then((listening) => {
      if (listening) return;
      noScheduler = true;
      finished();
    });
  };

  const onResult = (result: JobResult) => {
    const sentAt = inflight.get(result.jobId);
    if (sentAt === undefined) return;
    inflight.delete(result.jobId);
    const rttMs = performance.now() - sentAt;
    rtts.push(rttMs);
    const status = finalState(result.status);
    if (result.attempts > 1) retried++;
    if (js && status === JobState.FAILED && result.attempts > 0) dead++;
    report({
      jobId: result.jobId,
      status,
      workerId: result.workerId,
      executionMs: Number(result.executionMs),
      rttMs,
      error: result.error,
      output: result.output.length > 0 ? decoder.decode(result.output) : "",
      attempts: result.attempts,
    });
    settle();
  };

  nc.subscribe(RESULT, {
    callback: (_error, msg) => {
      const decoded = decodePacket(msg.data);
      if (!decoded.ok || decoded.packet.payload.case !== "jobResult") return;
      onResult(decoded.packet.payload.value);
    },
  });
  await nc.flush(); // the result subscription is live before the first job goes out
  const stopLookUps = new AbortController();
  const lookUp = js
    ? lookUpMissed(nc, inflight, onResult, stopLookUps.signal)
    : undefined;

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [id, sentAt] of inflight) {
      if (now - sentAt < options.timeoutMs) break;
      missing(id, `no result within ${options.timeoutMs} ms`);
    }
  }, Math.min(250, options.timeoutMs));

  for (let i = 0; i < Math.min(options.concurrency, options.count); i++) send();
  await allDone;
  clearInterval(sweep);
  stopLookUps.abort();
  await lookUp;
  if (noScheduler) return noSchedulerError(nc);
  if (noStream) return noStreamError(nc);
  const seconds = (performance.now() - started) / 1000;
  for (
    const line of summaryLines(
      { count: options.count, seconds, counts, rtts, retried, dead },
      options.json,
    )
  ) out.line(line);
  if ((counts[MISSING] ?? 0) > 0) return 2;
  return (counts[JobState.COMPLETED] ?? 0) === options.count ? 0 : 1;
}
