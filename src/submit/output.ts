/**
 * What the submit CLI prints: a line per job (text or JSON), the summary of
 * a run, written to standard output in batches.
 *
 * @module
 */
import {
  FINAL_STATES,
  finalCountKey,
  type FinalState,
} from "../contract/mod.ts";
import { summarize } from "../latency.ts";

/**
 * Not a job state: the CLI's word for a job whose result never arrived
 * (the scheduler always reports a job, so this means it was lost).
 */
export const MISSING = "MISSING";

/** How each job of a run ended, counted by state (and {@linkcode MISSING}). */
export type Counts = Partial<Record<FinalState | typeof MISSING, number>>;

/** Writes lines to standard output in batches: printing must not be the bottleneck. */
export class Output {
  #lines: string[] = [];
  #encoder = new TextEncoder();

  /** Queues one line, writing the batch when it is full. */
  line(text: string): void {
    this.#lines.push(text);
    if (this.#lines.length >= 256) this.flush();
  }

  /** Writes every queued line now. */
  flush(): void {
    if (this.#lines.length === 0) return;
    const bytes = this.#encoder.encode(this.#lines.join("\n") + "\n");
    this.#lines = [];
    let written = 0;
    while (written < bytes.length) {
      written += Deno.stdout.writeSync(bytes.subarray(written));
    }
  }
}

/** One job's result, as the CLI shows it. */
export interface Outcome {
  /** The job's id. */
  jobId: string;
  /** The state it ended in. */
  status: FinalState;
  /** The worker that ran it ("" when none did). */
  workerId: string;
  /** How long the worker took. */
  executionMs: number;
  /** From submitting to the result, as this CLI saw it. */
  rttMs: number;
  /** Why it did not complete ("" when it did). */
  error: string;
  /** The job's output, as text. */
  output: string;
  /** How many attempts it took (0 when it was refused before any). */
  attempts: number;
}

/** The line for one job's result. */
export function outcomeLine(o: Outcome, json: boolean): string {
  if (json) {
    return JSON.stringify({
      job_id: o.jobId,
      status: o.status,
      worker_id: o.workerId,
      execution_ms: o.executionMs,
      rtt_ms: Math.round(o.rttMs * 1000) / 1000,
      error: o.error,
      output: o.output,
      attempts: o.attempts,
    });
  }
  const parts = [
    o.jobId,
    o.status.padEnd(9),
    `worker=${o.workerId || "-"}`,
    `exec=${o.executionMs}ms`,
    `rtt=${o.rttMs.toFixed(1)}ms`,
  ];
  if (o.attempts > 1) parts.push(`attempts=${o.attempts}`);
  if (o.error) parts.push(`error="${o.error}"`);
  if (o.output) parts.push(`output=${JSON.stringify(o.output.slice(0, 80))}`);
  return parts.join("  ");
}

/** The line for a job whose result never came, and `why`. */
export function missingLine(
  jobId: string,
  why: string,
  json: boolean,
): string {
  return json
    ? JSON.stringify({ job_id: jobId, status: MISSING, error: why })
    : `${jobId}  ${MISSING}    ${why}`;
}

/** The line after publishing `count` jobs without waiting for them. */
export function submittedLine(
  count: number,
  topic: string,
  json: boolean,
): string {
  return json
    ? JSON.stringify({ submitted: count, topic })
    : `submitted ${count} job(s) to ${topic}`;
}

/**
 * The summary of a run of `count` jobs in `seconds`: one JSON line, or (for
 * more than one job) a text paragraph; nothing for a single job as text.
 */
export function summaryLines(
  run: {
    count: number;
    seconds: number;
    counts: Counts;
    rtts: number[];
    /** Jobs that took more than one attempt. */
    retried: number;
    /** Jobs that failed every attempt they were allowed (durable mode). */
    dead: number;
  },
  json: boolean,
): string[] {
  const { count, seconds, counts } = run;
  const lat = summarize(run.rtts);
  const jobsPerS = count / seconds;
  if (json) {
    return [JSON.stringify({
      summary: {
        count,
        // One key per final state, so a new state is counted here too.
        ...Object.fromEntries(
          FINAL_STATES.map((s) => [finalCountKey(s), counts[s] ?? 0]),
        ),
        missing: counts[MISSING] ?? 0,
        retried: run.retried,
        dead: run.dead,
        jobs_per_s: Math.round(jobsPerS * 10) / 10,
        p50_ms: round(lat.p50),
        p90_ms: round(lat.p90),
        p99_ms: round(lat.p99),
        max_ms: round(lat.max),
      },
    })];
  }
  if (count <= 1) return [];
  const byStatus = [
    ...Object.entries(counts).map(([s, n]) => `${n} ${s}`),
    ...(run.retried > 0 ? [`${run.retried} retried`] : []),
    ...(run.dead > 0 ? [`${run.dead} dead-lettered`] : []),
  ].join(", ");
  return [
    `\n${count} jobs in ${seconds.toFixed(2)} s (${
      jobsPerS.toFixed(0)
    } jobs/s): ${byStatus}`,
    `round trip ms: p50 ${round(lat.p50)}  p90 ${round(lat.p90)}  p99 ${
      round(lat.p99)
    }  max ${round(lat.max)}`,
  ];
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
