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
  if (subject.length > 256) return "is longer than 256 characters";
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
