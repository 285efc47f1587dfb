/**
 * What makes a job request or a heartbeat acceptable before any policy looks
 * at it, and how a refused one is cut down to a size worth keeping.
 *
 * Every string a peer sends is bounded here: a job's id, topic, pointers
 * and environment, its packet's trace and sender ids, and every string of a
 * heartbeat. Anything past a bound is refused with a reason that gives
 * sizes, never the content, and what is kept of a refused job (its record,
 * its log line, its published result) holds {@linkcode clipped} fields only,
 * so its cost is bounded whatever it sent.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { JobPriority, JobRequestSchema } from "../gen/cortex/v1/cortex_pb.ts";
import type { Heartbeat, JobRequest } from "../bus/messages.ts";
import { MAX_SUBJECT_BYTES, subjectProblem } from "../bus/subjects.ts";
import { wireSize } from "../bus/wire/packet_reader.ts";
import { remembered } from "./remembered.ts";

/** Limits {@linkcode validateJob} enforces; unset ones take their defaults. */
export interface ValidationLimits {
  /** Largest inline payload accepted, in bytes (default 64 KiB). */
  maxPayloadBytes: number;
  /** Longest job id, in UTF-8 bytes (default {@linkcode DEFAULT_MAX_JOB_ID_BYTES}). */
  maxJobIdBytes?: number;
  /** Most environment variables (default {@linkcode DEFAULT_MAX_ENV_VARS}). */
  maxEnvVars?: number;
  /**
   * Most bytes of environment, names and values together (default
   * {@linkcode DEFAULT_MAX_ENV_BYTES}).
   */
  maxEnvBytes?: number;
}

/** The default payload limit: 64 KiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;

/** The default job id limit (`CORTEX_MAX_JOB_ID_BYTES`): 256 bytes, room for any UUID, URN or path-like id. */
export const DEFAULT_MAX_JOB_ID_BYTES = 256;

/** The default number of environment variables (`CORTEX_MAX_ENV_VARS`): 64. */
export const DEFAULT_MAX_ENV_VARS = 64;

/** The default environment size (`CORTEX_MAX_ENV_BYTES`): 16 KiB, names and values. */
export const DEFAULT_MAX_ENV_BYTES = 16 * 1024;

/**
 * The longest trace id and sender id a submission's packet may carry: 256
 * bytes. They are ids (32 hex digits, `submit-1a2b3c4d`), kept with the job
 * and written in every log line about it.
 */
export const MAX_PACKET_ID_BYTES = 256;

/** The longest `context_ptr` and `adapter_id`: 1 KiB, room for a URL. */
export const MAX_POINTER_BYTES = 1024;

/**
 * The bounds of a heartbeat's strings: 256 bytes for the worker id, pool,
 * region, type and each capability, and 64 capabilities. A real worker
 * sends a few short words; the registry keeps up to `CORTEX_REGISTRY_SIZE`
 * heartbeats, so these bound its memory (64 × 256 B of capabilities at most
 * per worker).
 */
export const HEARTBEAT_LIMITS = {
  /** Longest worker id, pool, region, type or capability, in bytes. */
  fieldBytes: 256,
  /** Most capabilities. */
  capabilities: 64,
} as const;

/** How much of an over-long field is kept by {@linkcode clipped}: 64 bytes. */
export const CLIPPED_BYTES = 64;

/**
 * The UTF-8 size of `text` in bytes, without encoding it: a refused job's
 * id may be half a megabyte, and only its size is wanted.
 *
 * @example
 * ```ts
 * utf8Length("né"); // 3
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4; // a surrogate pair is one 4-byte character
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * `text`'s UTF-8 size when it is over `maxBytes`, else 0. A string of at
 * most `maxBytes / 3` UTF-16 units fits whatever it holds, so it is not
 * counted: every submission passes these checks, with no array made.
 */
export function sizeOver(text: string, maxBytes: number): number {
  if (text.length * 3 <= maxBytes) return 0;
  const bytes = utf8Length(text);
  return bytes > maxBytes ? bytes : 0;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * `text` itself when it is at most `maxBytes` long in UTF-8, otherwise its
 * first {@linkcode CLIPPED_BYTES} bytes (whole characters) and its size:
 * `"aaaa…(100000 bytes)"`. The clipped string is a fresh copy: a slice of a
 * JavaScript string may keep the whole original alive.
 *
 * @example
 * ```ts
 * clipped("job-1", 256); // "job-1"
 * clipped("x".repeat(100_000), 256); // "xxx…x…(100000 bytes)", 64 x's
 * ```
 */
export function clipped(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text; // fits, whatever it holds
  const bytes = utf8Length(text);
  if (bytes <= maxBytes) return text;
  const head = encoder.encode(text.slice(0, CLIPPED_BYTES));
  let end = Math.min(CLIPPED_BYTES, head.length);
  while (end > 0 && (head[end] & 0xc0) === 0x80) end--; // not inside a character
  return `${decoder.decode(head.subarray(0, end))}…(${bytes} bytes)`;
}

/** What {@linkcode subjectProblem} says of a topic, remembered per topic. */
const topicProblem = remembered((topic) => subjectProblem(topic));

/** The size of `job`'s environment: count and bytes of names and values. */
function envSize(
  env: Record<string, string>,
): { count: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  for (const name in env) {
    count++;
    bytes += utf8Length(name) + utf8Length(env[name]);
  }
  return { count, bytes };
}

/**
 * Why `job` cannot be accepted, or `undefined` when it can. The reason gives
 * sizes and limits, never an over-long field itself.
 *
 * @example
 * ```ts
 * validateJob(create(JobRequestSchema, { topic: "job.echo" }), limits);
 * // "job_id is required"
 * ```
 */
export function validateJob(
  job: JobRequest,
  limits: ValidationLimits,
): string | undefined {
  const maxJobId = limits.maxJobIdBytes ?? DEFAULT_MAX_JOB_ID_BYTES;
  // An id or topic the packet reader clipped is refused for its size on
  // the wire: what is left of it here is its first 64 bytes.
  const idBytes = wireSize(job, "jobId") ?? sizeOver(job.jobId, maxJobId);
  if (idBytes > maxJobId) {
    return `job_id is ${idBytes} bytes; the limit is ${maxJobId} (CORTEX_MAX_JOB_ID_BYTES)`;
  }
  if (job.jobId.trim() === "") return "job_id is required";
  if (job.topic === "") return "topic is required";
  const topicBytes = wireSize(job, "topic") ??
    sizeOver(job.topic, MAX_SUBJECT_BYTES);
  if (topicBytes > MAX_SUBJECT_BYTES) {
    return `topic is ${topicBytes} bytes; the limit is ${MAX_SUBJECT_BYTES}`;
  }
  const problem = topicProblem(job.topic);
  if (problem) {
    return `topic "${job.topic}" is not a valid NATS subject: it ${problem}`;
  }
  if (job.payload.length > limits.maxPayloadBytes) {
    return `payload is ${job.payload.length} bytes; the limit is ${limits.maxPayloadBytes} (CORTEX_MAX_PAYLOAD_BYTES)`;
  }
  if (!(job.priority in JobPriority)) {
    return `priority ${job.priority} is not a JobPriority (0 to 3)`;
  }
  const contextBytes = sizeOver(job.contextPtr, MAX_POINTER_BYTES);
  if (contextBytes > 0) {
    return `context_ptr is ${contextBytes} bytes; the limit is ${MAX_POINTER_BYTES}`;
  }
  const adapterBytes = sizeOver(job.adapterId, MAX_POINTER_BYTES);
  if (adapterBytes > 0) {
    return `adapter_id is ${adapterBytes} bytes; the limit is ${MAX_POINTER_BYTES}`;
  }
  const maxVars = limits.maxEnvVars ?? DEFAULT_MAX_ENV_VARS;
  const maxEnvBytes = limits.maxEnvBytes ?? DEFAULT_MAX_ENV_BYTES;
  const env = envSize(job.envVars);
  if (env.count > maxVars) {
    return `env_vars has ${env.count} variables; the limit is ${maxVars} (CORTEX_MAX_ENV_VARS)`;
  }
  if (env.bytes > maxEnvBytes) {
    return `env_vars hold ${env.bytes} bytes of names and values; the limit is ${maxEnvBytes} (CORTEX_MAX_ENV_BYTES)`;
  }
  return undefined;
}

/**
 * Why a submission's packet ids cannot be kept, or `undefined`: its trace
 * id and sender id must each fit {@linkcode MAX_PACKET_ID_BYTES}.
 *
 * @example
 * ```ts
 * validateSender({ traceId: "0af7…", submitter: "submit-1a2b3c4d" }); // undefined
 * ```
 */
export function validateSender(
  meta: { traceId: string; submitter: string },
): string | undefined {
  const traceBytes = sizeOver(meta.traceId, MAX_PACKET_ID_BYTES);
  if (traceBytes > 0) {
    return `the packet's trace_id is ${traceBytes} bytes; the limit is ${MAX_PACKET_ID_BYTES}`;
  }
  const senderBytes = sizeOver(meta.submitter, MAX_PACKET_ID_BYTES);
  if (senderBytes > 0) {
    return `the packet's sender_id is ${senderBytes} bytes; the limit is ${MAX_PACKET_ID_BYTES}`;
  }
  return undefined;
}

/** Environment variables kept of a refused job whose environment is over the limits. */
const KEPT_ENV_VARS = 8;

/**
 * A copy of `job` fit to keep and show after it was refused: every string
 * over its limit {@linkcode clipped}, an environment over its limits cut to
 * its first 8 variables (clipped) and a `"…"` entry saying what was left
 * out, and the payload as it is (the job table keeps only its size and
 * first KiB). A job within every limit comes back as it is.
 *
 * @example
 * ```ts
 * boundedJob(job, limits).jobId; // "aaaa…(512000 bytes)" for a 500 KB id
 * ```
 */
export function boundedJob(
  job: JobRequest,
  limits: ValidationLimits,
): JobRequest {
  const maxJobId = limits.maxJobIdBytes ?? DEFAULT_MAX_JOB_ID_BYTES;
  const env = envSize(job.envVars);
  const envFits = env.count <= (limits.maxEnvVars ?? DEFAULT_MAX_ENV_VARS) &&
    env.bytes <= (limits.maxEnvBytes ?? DEFAULT_MAX_ENV_BYTES);
  const fields = {
    // Clipped by the packet reader already, whatever the limit.
    jobId: wireSize(job, "jobId") ? job.jobId : clipped(job.jobId, maxJobId),
    topic: clipped(job.topic, MAX_SUBJECT_BYTES),
    contextPtr: clipped(job.contextPtr, MAX_POINTER_BYTES),
    adapterId: clipped(job.adapterId, MAX_POINTER_BYTES),
  };
  if (
    envFits && fields.jobId === job.jobId && fields.topic === job.topic &&
    fields.contextPtr === job.contextPtr && fields.adapterId === job.adapterId
  ) return job;
  let envVars = job.envVars;
  if (!envFits) {
    envVars = {};
    let kept = 0;
    for (const name in job.envVars) {
      if (kept++ === KEPT_ENV_VARS) break;
      envVars[clipped(name, CLIPPED_BYTES)] = clipped(
        job.envVars[name],
        CLIPPED_BYTES,
      );
    }
    envVars["…"] =
      `${env.count} variables, ${env.bytes} bytes in all; the first ${
        Math.min(KEPT_ENV_VARS, env.count)
      } kept`;
  }
  return create(JobRequestSchema, {
    ...fields,
    priority: job.priority,
    envVars,
    payload: job.payload,
    maxAttempts: job.maxAttempts,
  });
}

/**
 * Why `heartbeat` cannot be recorded, or `undefined` when it can: its
 * worker id is required, and its strings must keep
 * {@linkcode HEARTBEAT_LIMITS}. The reason gives sizes, never the strings.
 *
 * @example
 * ```ts
 * heartbeatProblem(create(HeartbeatSchema, { workerId: "echo-1" })); // undefined
 * ```
 */
export function heartbeatProblem(heartbeat: Heartbeat): string | undefined {
  const max = HEARTBEAT_LIMITS.fieldBytes;
  for (
    const [name, value] of [
      ["worker_id", heartbeat.workerId],
      ["pool", heartbeat.pool],
      ["region", heartbeat.region],
      ["type", heartbeat.type],
      ["session", heartbeat.session],
    ] as const
  ) {
    const bytes = utf8Length(value);
    if (bytes > max) return `${name} is ${bytes} bytes; the limit is ${max}`;
  }
  if (heartbeat.workerId === "") return "worker_id is required";
  const caps = heartbeat.capabilities;
  if (caps.length > HEARTBEAT_LIMITS.capabilities) {
    return `it lists ${caps.length} capabilities; the limit is ${HEARTBEAT_LIMITS.capabilities}`;
  }
  for (let i = 0; i < caps.length; i++) {
    const bytes = utf8Length(caps[i]);
    if (bytes > max) {
      return `capability ${i + 1} is ${bytes} bytes; the limit is ${max}`;
    }
  }
  return undefined;
}
