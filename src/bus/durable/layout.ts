// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * Where durable mode keeps things in JetStream: the streams, their
 * subjects and consumers, the ledger bucket, message ids, and the retry
 * rule. Every process that speaks durable mode (scheduler, workers, the
 * submit CLI, the chaos command) takes the names from here.
 *
 * The flow (docs/durability.md tells it in full):
 *
 * 1. Submissions on `sys.job.submit` are captured by {@linkcode SUBMIT_STREAM}
 *    whoever publishes them (a JetStream publish with the job id as message
 *    id is acknowledged once stored; a core publish, e.g. the Go MVP's
 *    client, is captured all the same). The scheduler replicas share the
 *    pull consumer {@linkcode SUBMIT_CONSUMER}.
 * 2. The scheduler records the job in the ledger ({@linkcode LEDGER_BUCKET},
 *    one key per job: a create, so a job id is admitted once across
 *    replicas) and dispatches it to {@linkcode workSubject}`(topic)` in
 *    {@linkcode WORK_STREAM}, with message id {@linkcode workMessageId}.
 * 3. Workers pull from the topic's consumer ({@linkcode workConsumer}) only
 *    as many jobs as they have free slots, keep the lease while the
 *    handler runs, and report each attempt on {@linkcode ATTEMPT_SUBJECT}
 *    ({@linkcode ATTEMPT_STREAM}) before they ack (done) or nak with a
 *    delay (retry: JetStream redelivers, and the delivery count is the
 *    attempt number).
 * 4. The scheduler replicas share {@linkcode ATTEMPT_CONSUMER}: each report
 *    is recorded in the ledger once (fenced by attempt), and the final one
 *    is published on `sys.job.result`.
 *
 * @module
 */
import type * as js from "npm:@nats-io/jetstream@^3.4.0";
import { RetentionPolicy, StorageType } from "npm:@nats-io/jetstream@^3.4.0";
import { nanos } from "npm:@nats-io/nats-core@^3.4.0";
import { SUBMIT } from "../subjects.ts";

/** The JetStream management API: `@nats-io/jetstream`'s own type. */
export type JetStreamManager = js.JetStreamManager;
/** A stream's configuration: `@nats-io/jetstream`'s own type. */
export type StreamConfig = js.StreamConfig;

/** Captures every submission on `sys.job.submit`; work-queue retention. */
export const SUBMIT_STREAM = "CORTEX_SUBMIT";
/** The scheduler replicas' shared pull consumer of {@linkcode SUBMIT_STREAM}. */
export const SUBMIT_CONSUMER = "scheduler";

/** Jobs dispatched to workers, one subject per topic; work-queue retention. */
export const WORK_STREAM = "CORTEX_WORK";
/** The prefix of every dispatch subject. */
export const WORK_PREFIX = "cortex.work.";

/** Workers' reports of each attempt; work-queue retention. */
export const ATTEMPT_STREAM = "CORTEX_ATTEMPTS";
/** Where workers publish `BusPacket{job_result}` per attempt. */
export const ATTEMPT_SUBJECT = "cortex.attempt";
/** The scheduler replicas' shared pull consumer of {@linkcode ATTEMPT_STREAM}. */
export const ATTEMPT_CONSUMER = "scheduler";

/** The job ledger: one key per job, its state, attempts and outcome. */
export const LEDGER_BUCKET = "cortex_jobs";

/**
 * The subject jobs for `topic` are dispatched to in durable mode:
 * `cortex.work.<topic>`. Core-NATS workers keep listening on `topic`
 * itself, so a job dispatched here never reaches them twice.
 */
export function workSubject(topic: string): string {
  return WORK_PREFIX + topic;
}

/**
 * The durable pull consumer of {@linkcode WORK_STREAM} serving `topic`:
 * every worker of the topic shares it. Consumer names may not hold `.`,
 * `*`, `>`, slashes or white space, so every character but letters,
 * digits, `-` and `_` is written as `_` and its hex code.
 *
 * @example
 * ```ts
 * workConsumer("job.echo"); // "work_job_2eecho"
 * ```
 */
export function workConsumer(topic: string): string {
  return "work_" + topic.replace(
    /[^A-Za-z0-9-]/g,
    (c) => "_" + c.charCodeAt(0).toString(16).padStart(2, "0"),
  );
}

/**
 * The ledger key of a job id. Ids of letters, digits, `-` and `_` are kept
 * readable (`j.<id>`); any other id is base64url-encoded (`b.<…>`), since
 * KV keys allow only `[-/_=.a-zA-Z0-9]`.
 *
 * @example
 * ```ts
 * ledgerKey("job-1"); // "j.job-1"
 * ledgerKey("a b"); // "b.YSBi"
 * ```
 */
export function ledgerKey(jobId: string): string {
  if (/^[A-Za-z0-9_-]{1,200}$/.test(jobId)) return `j.${jobId}`;
  const bytes = new TextEncoder().encode(jobId);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return "b." + btoa(binary).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/**
 * The message id of a job's dispatch: the stream drops a second publish of
 * the same id within its dedupe window, so a scheduler that crashed
 * between ledger and dispatch can safely dispatch again. A retry by hand
 * dispatches the job anew after the `attemptBase` attempts it was allowed
 * before: `<id>#work#<attemptBase>`, which grows with each retry, so the
 * stream never drops a retry as a repeat of an earlier dispatch.
 *
 * @example
 * ```ts
 * workMessageId("job-1"); // "job-1#work"
 * workMessageId("job-1", 3); // "job-1#work#3" (the first retry of a 3-attempt job)
 * ```
 */
export function workMessageId(jobId: string, attemptBase = 0): string {
  return attemptBase > 0 ? `${jobId}#work#${attemptBase}` : `${jobId}#work`;
}

/** The message id of a worker's report of one attempt. */
export function attemptMessageId(jobId: string, attempt: number): string {
  return `${jobId}#${attempt}`;
}

/**
 * Whether an attempt's outcome ends the job: it COMPLETED (or was not a
 * plain failure), or it was the last attempt allowed. Workers and the
 * scheduler decide by this one rule.
 */
export function isFinalAttempt(
  failed: boolean,
  attempt: number,
  maxAttempts: number,
): boolean {
  return !failed || attempt >= maxAttempts;
}

/**
 * How long to wait before attempt `attempt + 1` after attempt `attempt`
 * failed: exponential from `baseMs`, capped at `maxMs`, with "full jitter"
 * (a random point between half and all of it) so retries of many jobs
 * that failed together do not return together.
 *
 * @example
 * ```ts
 * retryDelayMs(1, 1_000, 30_000); // 500–1,000
 * retryDelayMs(3, 1_000, 30_000); // 2,000–4,000
 * ```
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * ceiling / 2);
}

/** What the streams are made with. */
export interface StreamSettings {
  /** Replicas of each stream and of the ledger (1 on one server, 3 on a 3-node cluster). */
  replicas: number;
  /** How long a submission or dispatch's message id is remembered, in ms. */
  dedupeWindowMs: number;
  /** How long the ledger keeps a job, in ms (also the oldest a queued job may be). */
  historyMs: number;
}

/** The configuration of each CortexOS stream, by name. */
export function streamConfigs(
  settings: StreamSettings,
): Record<string, Partial<StreamConfig> & { name: string }> {
  const common = {
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: settings.replicas,
    duplicate_window: nanos(settings.dedupeWindowMs),
    max_age: nanos(settings.historyMs),
  };
  return {
    [SUBMIT_STREAM]: { ...common, name: SUBMIT_STREAM, subjects: [SUBMIT] },
    [WORK_STREAM]: {
      ...common,
      name: WORK_STREAM,
      subjects: [`${WORK_PREFIX}>`],
    },
    [ATTEMPT_STREAM]: {
      ...common,
      name: ATTEMPT_STREAM,
      subjects: [ATTEMPT_SUBJECT],
    },
  };
}

/** A stream exists with a configuration CortexOS cannot use as it is. */
export class StreamMismatch extends Error {
  /** Shown before the message in logs and stack traces. */
  override name = "StreamMismatch";
}

/**
 * Creates the CortexOS streams, or updates them to `settings` when they
 * exist (idempotent: every scheduler replica runs it at start). A stream of
 * the same name whose retention or subjects differ (left by an older
 * version, or made by hand) is not touched: it throws, saying what to do.
 *
 * @throws {StreamMismatch} naming the stream and the difference.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  settings: StreamSettings,
): Promise<void> {
  for (const config of Object.values(streamConfigs(settings))) {
    const name = config.name;
    let existing: StreamConfig | undefined;
    try {
      existing = (await jsm.streams.info(name)).config;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (!existing) {
      await jsm.streams.add(config);
      continue;
    }
    const wrong = existing.retention !== config.retention
      ? `retention ${existing.retention}, not ${config.retention}`
      : existing.subjects?.join(",") !== config.subjects?.join(",")
      ? `subjects ${existing.subjects?.join(",")}, not ${
        config.subjects?.join(",")
      }`
      : undefined;
    if (wrong) {
      throw new StreamMismatch(
        `stream ${name} exists with ${wrong}: it was not made by this version of CortexOS. ` +
          `Move its messages elsewhere if they matter, then delete it (nats stream rm ${name}) ` +
          `and start the scheduler again; it makes the stream anew.`,
      );
    }
    await jsm.streams.update(name, {
      num_replicas: config.num_replicas,
      duplicate_window: config.duplicate_window,
      max_age: config.max_age,
    });
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { code?: number; api_error?: { err_code?: number } };
  return e?.api_error?.err_code === 10059 || e?.code === 404 ||
    /stream not found/i.test(String((error as Error)?.message));
}
