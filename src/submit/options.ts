/**
 * The submit CLI's command line: its flags, parsed with `node:util`
 * `parseArgs`, checked and turned into {@linkcode SubmitOptions}.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ECHO_TOPIC } from "../bus/subjects.ts";
import {
  FINAL_STATES,
  JOB_PRIORITIES,
  JobState,
  Priority,
  PRIORITY_CHOICES,
  priorityNumber,
} from "../contract/mod.ts";

const PRIORITY_HELP = `${
  PRIORITY_CHOICES.join(" | ")
} (default ${Priority.UNSPECIFIED.toLowerCase()})`;
const EXIT_HELP = `0 all ${JobState.COMPLETED}, 1 some ${
  FINAL_STATES.filter((s) => s !== JobState.COMPLETED).join("/")
}`;

/** The submit CLI's `--help` text. */
export const USAGE = `Submit jobs to CortexOS and wait for their results.

usage: deno task submit [options]

  --topic T          job topic (default ${ECHO_TOPIC})
  --payload TEXT     job payload, as text
  --payload-file F   job payload, read from a file
  --priority P       ${PRIORITY_HELP}
  --count N          how many jobs to submit (default 1)
  --max-attempts N   attempts per job in durable mode, 1-100 (default: the
                     scheduler's CORTEX_MAX_ATTEMPTS)
  --concurrency C    how many jobs in flight at once (default 1)
  --timeout D        how long to wait for each job's result: 500ms, 30s, 2m
                     (default 65s, past the scheduler's 60 s job timeout)
  --no-wait          publish and exit without waiting for results
  --json             one JSON object per job, then {"summary": …}
  --retry ID         instead of submitting: start job ID again (durable mode;
                     a job that ended FAILED, dead-lettered or TIMEOUT) as new
                     attempts of the same id, its history kept; the other
                     flags but --json are ignored (exit 0 started, 1 refused)
  --help             this text

environment: NATS_URL (default nats://127.0.0.1:4222), CORTEX_DURABILITY
(auto, the default: durable when the server offers JetStream; durable, or
jetstream: each job is acknowledged once stored; none: core NATS)
exit code: ${EXIT_HELP},
2 a result never arrived, NATS unreachable, or bad arguments`;

/** A command line the CLI cannot run: the message says what to fix. */
export class UsageError extends Error {}

/** What the command line asks for. */
export interface SubmitOptions {
  /** The jobs' topic. */
  topic: string;
  /** The jobs' payload. */
  payload: Uint8Array;
  /** The jobs' priority, as its wire number. */
  priority: number;
  /** How many jobs to submit. */
  count: number;
  /** Attempts per job in durable mode; 0 leaves it to the scheduler. */
  maxAttempts: number;
  /** How many jobs to keep in flight at once. */
  concurrency: number;
  /** How long to wait for each job's result. */
  timeoutMs: number;
  /** Wait for the results (false: publish and exit). */
  wait: boolean;
  /** One JSON object per line instead of text. */
  json: boolean;
  /** Retry this job by hand instead of submitting (`--retry`). */
  retry?: string;
}

function positiveInt(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(
      `--${flag} ${raw}: expected a whole number of at least 1`,
    );
  }
  return n;
}

function duration(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!match) {
    throw new UsageError(`--timeout ${raw}: expected e.g. 500ms, 30s or 2m`);
  }
  const unit = { ms: 1, s: 1000, m: 60_000 }[match[2] ?? "s"]!;
  return Number(match[1]) * unit;
}

/** Most attempts a job may ask for. */
export const MAX_ATTEMPTS = 100;

function attempts(raw: string): number {
  const n = positiveInt("max-attempts", raw);
  if (n > MAX_ATTEMPTS) {
    throw new UsageError(
      `--max-attempts ${raw}: expected a whole number from 1 to ${MAX_ATTEMPTS}`,
    );
  }
  return n;
}

function retryId(raw: string): string {
  if (raw.trim() === "") throw new UsageError("--retry: expected a job id");
  return raw;
}

/** A priority by name in any case, or by its wire number. */
function priority(raw: string): number {
  const value = priorityNumber(raw) ?? Number(raw);
  if (JOB_PRIORITIES[value] === undefined) {
    throw new UsageError(
      `--priority ${raw}: expected ${PRIORITY_CHOICES.join(", ")} or 0-${
        JOB_PRIORITIES.length - 1
      }`,
    );
  }
  return value;
}

/**
 * Parses the submit CLI's flags (see {@linkcode USAGE}), reading the payload
 * file if one is named.
 *
 * @throws {UsageError} on a value that is not valid, or a payload file that
 * cannot be read, and `TypeError` on an unknown flag or a missing value.
 * @example
 * ```ts
 * const options = await parseSubmitArgs(["--count", "10", "--json"]);
 * ```
 */
export async function parseSubmitArgs(
  argv: string[],
): Promise<SubmitOptions | "help"> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      topic: { type: "string", default: ECHO_TOPIC },
      payload: { type: "string" },
      "payload-file": { type: "string" },
      priority: { type: "string", default: Priority.UNSPECIFIED },
      count: { type: "string", default: "1" },
      "max-attempts": { type: "string" },
      concurrency: { type: "string", default: "1" },
      timeout: { type: "string", default: "65s" },
      "no-wait": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      retry: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return "help";
  if (values.payload !== undefined && values["payload-file"] !== undefined) {
    throw new UsageError("give --payload or --payload-file, not both");
  }
  let payload = new TextEncoder().encode(values.payload ?? "");
  if (values["payload-file"] !== undefined) {
    try {
      payload = await Deno.readFile(values["payload-file"]);
    } catch (error) {
      throw new UsageError(
        `--payload-file ${values["payload-file"]}: ${(error as Error).message}`,
      );
    }
  }
  return {
    topic: values.topic,
    payload,
    priority: priority(values.priority),
    count: positiveInt("count", values.count),
    maxAttempts: values["max-attempts"] === undefined
      ? 0
      : attempts(values["max-attempts"]),
    concurrency: positiveInt("concurrency", values.concurrency),
    timeoutMs: duration(values.timeout),
    wait: !values["no-wait"],
    json: values.json,
    ...(values.retry !== undefined ? { retry: retryId(values.retry) } : {}),
  };
}
