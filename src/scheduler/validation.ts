/**
 * What makes a job request acceptable before any policy looks at it.
 *
 * @module
 */
import { JobPriority } from "../gen/cortex/v1/cortex_pb.ts";
import type { JobRequest } from "../bus/messages.ts";
import { subjectProblem } from "../bus/subjects.ts";
import { remembered } from "./remembered.ts";

/** Limits {@linkcode validateJob} enforces. */
export interface ValidationLimits {
  /** Largest inline payload accepted, in bytes (default 64 KiB). */
  maxPayloadBytes: number;
}

/** The default payload limit: 64 KiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;

const MAX_JOB_ID_LENGTH = 256;

/** What {@linkcode subjectProblem} says of a topic, remembered per topic. */
const topicProblem = remembered((topic) => subjectProblem(topic));

/**
 * Why `job` cannot be accepted, or `undefined` when it can.
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
  if (job.jobId.trim() === "") return "job_id is required";
  if (job.jobId.length > MAX_JOB_ID_LENGTH) {
    return `job_id is ${job.jobId.length} characters; the limit is ${MAX_JOB_ID_LENGTH}`;
  }
  if (job.topic === "") return "topic is required";
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
  return undefined;
}
