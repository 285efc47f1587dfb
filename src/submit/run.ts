/**
 * The submit CLI's run: publish the jobs with at most `concurrency` in
 * flight, match each result to its job, give up on a job after its timeout,
 * and say at once when no scheduler listens.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import {
  delay,
  type NatsConnection,
  NoRespondersError,
  RequestError,
} from "@nats-io/nats-core";
import { JobRequestSchema } from "../gen/cortex/v1/cortex_pb.ts";
import {
  decodePacket,
  encodePacket,
  newTraceId,
  packet,
} from "../bus/codec.ts";
import { Kvm } from "@nats-io/kv";
import {
  LEDGER_BUCKET,
  ledgerKey,
  SUBMIT_STREAM,
} from "../bus/durable/layout.ts";
import type { JobResult } from "../bus/messages.ts";
import { decodeEntry, resultOf } from "../scheduler/ledger.ts";
import type { Durability } from "../bus/durable/mode.ts";
import { RESULT, SUBMIT } from "../bus/subjects.ts";
import { finalState, isFinal, JobState } from "../contract/mod.ts";
import { sleep } from "../sleep.ts";
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

/**
 * Sends the first job as a NATS request. Nobody answers it, but the server
 * says at once when nothing subscribes to `sys.job.submit`: then no scheduler
 * runs, and every job would be lost. Resolves false in that case only.
 */
async function firstJob(
  nc: NatsConnection,
  bytes: Uint8Array,
  waitMs: number,
): Promise<boolean> {
  try {
    await nc.request(SUBMIT, bytes, { timeout: waitMs });
  } catch (error) {
    if (error instanceof RequestError && error.isNoResponders()) return false;
  }
  return true;
}

/** Attempts at storing one job before the CLI gives up on it. */
const STORE_TRIES = 4;

/**
 * Publishes one job through JetStream and resolves once `CORTEX_SUBMIT`
 * has stored it: the job is accepted. A publish that is not acknowledged is
 * retried with the same message id (the job id), so the stream keeps one
 * copy whatever happened to the earlier tries. Resolves the last error's
 * message when every try failed.
 */
async function store(
  js: JetStreamClient,
  jobId: string,
  bytes: Uint8Array,
): Promise<string | undefined> {
  for (let tryNo = 1;; tryNo++) {
    try {
      await js.publish(SUBMIT, bytes, { msgID: jobId, timeout: 5_000 });
      return undefined;
    } catch (error) {
      if (noStream(error)) return NO_STREAM;
      if (tryNo === STORE_TRIES) {
        return `not stored: ${(error as Error).message}`;
      }
      await delay(250 * 2 ** tryNo);
    }
  }
}

const NO_STREAM = `no stream ${SUBMIT_STREAM} stores ${SUBMIT}`;

/**
 * Whether a JetStream publish failed because no stream takes the subject:
 * the server has no responder for it, which the client reports as
 * "jetstream is not enabled" (a class it does not export).
 */
function noStream(error: unknown): boolean {
  return error instanceof NoRespondersError ||
    (error instanceof Error && error.name === "JetStreamNotEnabled");
}

/** A job waiting this long is looked up in the ledger: its result may have been missed. */
const LOOK_UP_AFTER_MS = 2_000;
/** Most ledger look-ups per second, so a long outage costs the server little. */
const LOOK_UPS_PER_ROUND = 100;

/**
 * Finds outcomes this client missed (published while it was reconnecting,
 * or never published because a scheduler died between recording and
 * publishing them) in the ledger: once a second, the jobs that have waited
 * longest, and hands each final one to `found` as if it had arrived.
 */
async function lookUpMissed(
  nc: NatsConnection,
  inflight: Map<string, number>,
  found: (result: JobResult) => void,
  signal: AbortSignal,
): Promise<void> {
  const kv = await new Kvm(nc).open(LEDGER_BUCKET).catch(() => undefined);
  if (!kv) return;
  while (!signal.aborted) {
    await sleep(1_000, signal);
    const due = performance.now() - LOOK_UP_AFTER_MS;
    const ids: string[] = [];
    for (const [id, sentAt] of inflight) {
      if (sentAt > due || ids.length >= LOOK_UPS_PER_ROUND) break;
      ids.push(id);
    }
    for (const id of ids) {
      if (signal.aborted) return;
      const value = await kv.get(ledgerKey(id)).catch(() => null);
      const entry = value?.value && decodeEntry(value.value);
      if (entry && isFinal(entry.state)) found(resultOf(entry));
    }
  }
}

function noStreamError(nc: NatsConnection): number {
  console.error(
    `submit: ${NO_STREAM} at ${nc.getServer()}: start the scheduler with CORTEX_DURABILITY=jetstream once (it makes the streams), or submit with CORTEX_DURABILITY=none`,
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
 * Why the jobs cannot go over `nc` at all, or `undefined`: a packet larger
 * than the server's `max_payload` would make the client throw on publish.
 * `largest` is the size of the largest packet to send.
 */
export function oversizeProblem(
  largest: number,
  maxPayload: number | undefined,
  server: string,
): string | undefined {
  if (maxPayload === undefined || maxPayload <= 0 || largest <= maxPayload) {
    return undefined;
  }
  return `each job is a ${largest}-byte packet, over the ${maxPayload}-byte limit (max_payload) of the NATS server at ${server}; send a smaller payload (the scheduler itself accepts at most CORTEX_MAX_PAYLOAD_BYTES, 64 KiB by default)`;
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
  const js = durability === "jetstream" ? jetstream(nc) : undefined;
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
        const failed = await store(js, jobId(i), encode(i));
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
      store(js, id, bytes).then((failed) => {
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
