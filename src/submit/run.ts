/**
 * The submit CLI's run, through the SDK's `Cortex.submitMany` (one client
 * implementation): numbered job ids, each result or missing job printed as
 * it comes, a summary, and the exit code.
 *
 * @module
 */
import { JOB_PRIORITIES, JobState } from "../contract/mod.ts";
import type { Cortex } from "../sdk/cortex.ts";
import type { JobPriority, SubmitManyOptions } from "../sdk/types.ts";
import type { SubmitOptions } from "./options.ts";
import {
  type Counts,
  MISSING,
  missingLine,
  outcomeLine,
  type Output,
  submittedLine,
  summaryLines,
} from "./output.ts";

/** `count` times the same payload, read as `submitMany` needs the next. */
function* repeat(payload: Uint8Array, count: number): Generator<Uint8Array> {
  for (let i = 0; i < count; i++) yield payload;
}

/** `submitMany`'s options for what the command line asks. */
function manyOptions(options: SubmitOptions): SubmitManyOptions {
  // One job is `job-<8 hex>`; several are numbered from 1 after it.
  const prefix = `job-${crypto.randomUUID().slice(0, 8)}`;
  return {
    concurrency: options.concurrency,
    timeoutMs: options.timeoutMs,
    jobId: (i) => options.count === 1 ? prefix : `${prefix}-${i + 1}`,
    ...(options.priority > 0
      ? {
        priority: JOB_PRIORITIES[options.priority].toLowerCase() as JobPriority,
      }
      : {}),
    ...(options.maxAttempts > 0 ? { maxAttempts: options.maxAttempts } : {}),
  };
}

/** Says why no job can go (no scheduler, no stream, too large): exit 2. */
function cannotSubmit(error: unknown): number {
  if (!(error instanceof Error)) throw error;
  console.error(`submit: ${error.message}`);
  return 2;
}

/**
 * Submits the jobs `options` describe through `cortex` and, unless told
 * not to wait, prints each result and a summary to `out`.
 *
 * @returns the exit code: 0 when every job completed, 1 when any ended
 * otherwise, 2 when a result never arrived, no scheduler listens, no
 * stream stores jobs, or a job is too large for the server to carry.
 * @example
 * ```ts
 * const code = await submitJobs(cortex, options, new Output());
 * ```
 */
export async function submitJobs(
  cortex: Cortex,
  options: SubmitOptions,
  out: Output,
): Promise<number> {
  const many = manyOptions(options);
  const payloads = repeat(options.payload, options.count);
  if (!options.wait) {
    try {
      const sending = cortex.submitMany(options.topic, payloads, {
        ...many,
        wait: false,
      });
      for await (const _ of sending) { /* yields nothing without waiting */ }
    } catch (error) {
      return cannotSubmit(error);
    }
    out.line(submittedLine(options.count, options.topic, options.json));
    return 0;
  }

  const counts: Counts = {};
  const rtts: number[] = [];
  let retried = 0;
  let dead = 0;
  const started = performance.now();
  try {
    const outcomes = cortex.submitMany(options.topic, payloads, {
      ...many,
      onMissing: (error) => {
        counts[MISSING] = (counts[MISSING] ?? 0) + 1;
        out.line(missingLine(error.jobId, error.why, options.json));
      },
    });
    for await (const o of outcomes) {
      rtts.push(o.roundTripMs);
      if (o.attempts > 1) retried++;
      // Failed after attempts in durable mode: every attempt it was allowed.
      const durable = cortex.durability === "jetstream";
      if (durable && o.status === JobState.FAILED && o.attempts > 0) dead++;
      counts[o.status] = (counts[o.status] ?? 0) + 1;
      out.line(outcomeLine({
        jobId: o.jobId,
        status: o.status,
        workerId: o.workerId,
        executionMs: o.executionMs,
        rttMs: o.roundTripMs,
        error: o.error,
        output: o.output.length > 0 ? o.text() : "",
        attempts: o.attempts,
      }, options.json));
    }
  } catch (error) {
    return cannotSubmit(error);
  }
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
