/**
 * `Cortex.submitMany`: many jobs over the {@linkcode Submitter}, at most
 * `concurrency` at once, outcomes yielded as they arrive. The submit CLI
 * and the bench's load driver submit through it.
 *
 * @module
 */
import type { JobResult } from "../bus/messages.ts";
import { finalState } from "../contract/mod.ts";
import { decodeJson, decodeText, plainBytes } from "./payload.ts";
import { NoOutcomeError, type Receiver, type Submitter } from "./submitter.ts";
import type { JobOutcome, SubmitManyOptions } from "./types.ts";

/** The default wait for a job's outcome: past the scheduler's 60 s job timeout. */
export const DEFAULT_TIMEOUT_MS = 65_000;

/** The wait `submit` gives up after, as the error a user reads. */
export function timedOut(
  jobId: string,
  topic: string,
  timeoutMs: number,
): NoOutcomeError {
  return new NoOutcomeError(
    jobId,
    `no result within ${timeoutMs} ms`,
    `no outcome for job ${jobId} on ${topic} within ${timeoutMs} ms: is a worker serving ${topic}, and a scheduler running?`,
  );
}

/**
 * An outcome's `text()` and `json()`: shared by every outcome rather than
 * two closures a job, they read the outcome they are called on, and only
 * when called.
 */
function text(this: JobOutcome): string {
  return decodeText(this.output);
}
function json<T>(this: JobOutcome): T {
  return decodeJson<T>(this.output);
}

/** The public outcome of a `JobResult`. */
export function outcomeOf(result: JobResult, roundTripMs: number): JobOutcome {
  return {
    jobId: result.jobId,
    status: finalState(result.status) as JobOutcome["status"],
    output: plainBytes(result.output),
    error: result.error,
    workerId: result.workerId,
    executionMs: Number(result.executionMs),
    attempts: result.attempts,
    roundTripMs,
    text,
    json,
  };
}

/** Writes the packet of one job of a call: its id and payload. */
export type Requests = (jobId: string, payload: unknown) => Uint8Array;

/**
 * Submits one job per payload through `submitter` (see
 * `Cortex.submitMany` for the contract). Every wait is bounded by one sweep
 * a quarter second (or `timeoutMs`, if shorter) rather than a timer per
 * job: the bench drives tens of thousands of jobs a second through here.
 */
export async function* submitMany(
  submitter: Submitter,
  requests: Requests,
  topic: string,
  payloads: Iterable<unknown> | AsyncIterable<unknown>,
  options: SubmitManyOptions,
): AsyncGenerator<JobOutcome, void, undefined> {
  const {
    concurrency = 100,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    signal,
    onMissing,
    wait = true,
  } = options;
  const limit = Math.max(1, Math.floor(concurrency));
  const idOf = options.jobId ?? (() => `job-${crypto.randomUUID()}`);
  signal?.throwIfAborted();

  // Job id → sent at, oldest first (what the sweep walks); outcomes and
  // the error that ends the run wait here until the consumer asks.
  const inflight = new Map<string, number>();
  // Drained a batch at a time: the batch is swapped out whole rather than
  // shifted a job at a time.
  let ready: JobOutcome[] = [];
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const rouse = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  const end = (error: unknown) => {
    failure ??= { error };
    rouse();
  };
  const lost = (jobId: string, error: Error) => {
    if (!inflight.delete(jobId)) return;
    submitter.forget(jobId);
    if (!onMissing || !(error instanceof NoOutcomeError)) return end(error);
    try {
      onMissing(error);
    } catch (thrown) {
      end(thrown); // from a timer or a result: the run is where it surfaces
    }
    rouse();
  };
  const receiver: Receiver = {
    result(result, roundTripMs) {
      if (!inflight.delete(result.jobId)) return;
      ready.push(outcomeOf(result, roundTripMs));
      rouse();
    },
    fail: lost,
  };
  const sent = (jobId: string, problem: Error | undefined) => {
    if (problem) lost(jobId, problem);
    else if (!wait && inflight.delete(jobId)) rouse();
  };
  const onAbort = () => end(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const sweep = wait
    ? setInterval(() => {
      const due = performance.now() - timeoutMs;
      for (const [jobId, sentAt] of inflight) {
        if (sentAt > due) break;
        // Without a connection, every job after this one would wait its
        // whole timeout too: the run ends instead.
        const outage = submitter.outage(jobId, timeoutMs);
        if (outage) return end(outage);
        lost(jobId, timedOut(jobId, topic, timeoutMs));
      }
    }, Math.min(250, timeoutMs))
    : undefined;
  const arrival = () => new Promise<void>((resolve) => wake = resolve);
  // The outcomes arrived so far, in order; those arriving meanwhile wait
  // for the next batch.
  const take = () => {
    const batch = ready;
    ready = [];
    return batch;
  };

  const send = (jobId: string, payload: unknown) => {
    if (inflight.has(jobId) || submitter.awaits(jobId)) {
      throw new Error(`job ${jobId} is already awaited by this Cortex`);
    }
    const bytes = requests(jobId, payload);
    const now = performance.now();
    inflight.set(jobId, now);
    const sending = submitter.send(
      jobId,
      bytes,
      wait ? receiver : undefined,
      wait ? 1_000 : 200,
      now,
    );
    if (sending) sending.then((problem) => sent(jobId, problem), end);
    else if (!wait) inflight.delete(jobId);
  };
  const sync = Symbol.iterator in payloads
    ? (payloads as Iterable<unknown>)[Symbol.iterator]()
    : undefined;
  const iterator = sync ??
    (payloads as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  let more = true;
  try {
    let index = 0;
    while (more) {
      // Yield what arrived, then fill the room up again.
      while (inflight.size >= limit && !failure && ready.length === 0) {
        await arrival();
      }
      if (failure) throw failure.error;
      while (ready.length > 0) for (const outcome of take()) yield outcome;
      while (more && inflight.size < limit && !failure) {
        const next = sync ? sync.next() : await iterator.next();
        if (next.done) more = false;
        else send(idOf(index++), next.value);
      }
    }
    while (inflight.size > 0 || ready.length > 0) {
      if (ready.length === 0 && !failure) await arrival();
      if (failure) throw failure.error;
      while (ready.length > 0) for (const outcome of take()) yield outcome;
    }
    if (failure) throw failure.error;
    if (!wait) await submitter.flush();
  } finally {
    clearInterval(sweep);
    signal?.removeEventListener("abort", onAbort);
    if (more) await iterator.return?.();
    for (const jobId of inflight.keys()) submitter.forget(jobId);
  }
}
