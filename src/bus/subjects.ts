/**
 * Every NATS subject and queue group CortexOS uses, and the subject rules.
 *
 * @module
 */

/** Clients publish `BusPacket{job_request}` here. */
export const SUBMIT = "sys.job.submit";
/** Workers (and the scheduler, for jobs it refuses) publish results here. */
export const RESULT = "sys.job.result";
/** Every worker heartbeat, whatever its pool. */
export const HEARTBEAT_ALL = "sys.heartbeat.>";
/**
 * Retry a job by hand: a request whose body is JSON `{"jobId": "…"}`, which
 * one scheduler replica (queue group {@linkcode SCHEDULER_QUEUE}) answers
 * with a JSON `RetryReply` (src/contract/operator_api.ts). A control request, not a
 * job message, so JSON like the dashboard's API rather than a BusPacket.
 */
export const RETRY = "sys.job.retry";
/**
 * A scheduler that starts asks every worker for a heartbeat now (a roll
 * call), so workers already running are listed within a second rather than
 * at their next heartbeat. The message is a `BusPacket{alert}` saying so;
 * workers answer on their heartbeat subject.
 */
export const ROLL_CALL = "sys.rollcall";
/**
 * A job was cancelled: a `BusPacket{job_result}` with the job's id and
 * status CANCELLED, published by the scheduler only (no other role may
 * publish here: a worker cannot cancel another's jobs). Every worker
 * listens: one running the job aborts its handler's signal and reports
 * nothing; one holding it, or taking it later, never starts it. Not under
 * `sys.job.`, which workers may not listen to.
 */
export const CANCEL = "sys.cancel";
/**
 * A durable worker that starts asks here (a request, empty body) for the
 * jobs cancelled while it was not listening to {@linkcode CANCEL}; one
 * scheduler replica (queue group {@linkcode SCHEDULER_QUEUE}) answers with
 * JSON `{"jobIds": [...]}`, so a job cancelled while it waited in the
 * work stream is never started by a worker that came later.
 */
export const CANCELLED = "sys.cancelled";
/**
 * Drain (or resume) one worker: a `BusPacket{alert}` whose `level` is
 * `drain` or `resume` and whose `message` is the worker's id, published by
 * the scheduler only. The worker named finishes what it holds and takes
 * nothing new until resumed or stopped; the schedulers listen too, to show
 * it draining.
 */
export const DRAIN = "sys.drain";
/** The scheduler replicas share submissions through this queue group. */
export const SCHEDULER_QUEUE = "cortex-scheduler";

/** The heartbeat subject of a worker pool: `sys.heartbeat.<pool>`. */
export function heartbeatSubject(pool: string): string {
  return `sys.heartbeat.${pool}`;
}

/** The queue group a pool's workers share: `workers-<pool>`. */
export function workerQueue(pool: string): string {
  return `workers-${pool}`;
}

/** The topic of the echo worker. */
export const ECHO_TOPIC = "job.echo";

const encoder = new TextEncoder();

/**
 * The longest subject CortexOS accepts as a job topic or pattern: 256 bytes
 * of UTF-8. Far beyond any real topic, and small enough that a topic kept
 * with each job, logged and remembered per topic costs little.
 */
export const MAX_SUBJECT_BYTES = 256;

/**
 * Subject prefixes no job may be sent to: `sys.` (CortexOS's own subjects:
 * submissions, results, heartbeats), `$` (the NATS server's and JetStream's
 * APIs: `$JS.API.…`, `$SYS.…`, `$KV.…`), `_INBOX` (reply subjects of
 * requests in flight, which a job would answer falsely) and `cortex.`
 * (durable mode's streams: a core dispatch to `cortex.work.…` would land in
 * the work stream, one to `cortex.attempt` would forge a report).
 */
export const RESERVED_PREFIXES = ["sys.", "$", "_INBOX", "cortex."] as const;

/**
 * The reserved prefix `subject` starts with, or `undefined`: see
 * {@linkcode RESERVED_PREFIXES}.
 *
 * @example
 * ```ts
 * reservedPrefix("$JS.API.INFO"); // "$"
 * reservedPrefix("job.echo"); // undefined
 * ```
 */
export function reservedPrefix(subject: string): string | undefined {
  return RESERVED_PREFIXES.find((prefix) => subject.startsWith(prefix));
}

/**
 * Why `subject` is not a valid NATS subject, or `undefined` when it is.
 *
 * Tokens are separated by `.`, non-empty, and free of white space. `*` and
 * `>` are wildcards: allowed as whole tokens (`>` last) only when
 * `wildcards` is true.
 *
 * @example
 * ```ts
 * subjectProblem("job.echo"); // undefined
 * subjectProblem("job.*"); // "wildcards are not allowed"
 * ```
 */
export function subjectProblem(
  subject: string,
  { wildcards = false }: { wildcards?: boolean } = {},
): string | undefined {
  if (subject.length === 0) return "is empty";
  if (subject.length > MAX_SUBJECT_BYTES) {
    return `is longer than ${MAX_SUBJECT_BYTES} bytes`;
  }
  if (encoder.encode(subject).length > MAX_SUBJECT_BYTES) {
    return `is longer than ${MAX_SUBJECT_BYTES} bytes`;
  }
  if (/\s/.test(subject)) return "contains white space";
  const tokens = subject.split(".");
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === "") {
      return "has an empty token (leading, trailing or double dot)";
    }
    const wild = token.includes("*") || token.includes(">");
    if (!wild) continue;
    if (!wildcards) {
      return "contains a wildcard (* or >), which a job topic cannot";
    }
    if (token.length > 1) return `token "${token}" mixes a wildcard with text`;
    if (token === ">" && i !== tokens.length - 1) {
      return "has > before its last token";
    }
  }
  return undefined;
}

/**
 * Whether `subject` matches `pattern`, with NATS wildcards: `*` matches one
 * token, a final `>` matches one or more.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split(".");
  const have = subject.split(".");
  for (let i = 0; i < want.length; i++) {
    if (want[i] === ">") return have.length > i;
    if (i >= have.length) return false;
    if (want[i] !== "*" && want[i] !== have[i]) return false;
  }
  return want.length === have.length;
}
