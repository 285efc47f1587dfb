/**
 * `POST /api/jobs`: turns the dashboard's submit form (JSON) into jobs for
 * {@linkcode SchedulerService.submit}, the same validation, safety and
 * routing path jobs from the bus take.
 *
 * @module
 */
import {
  PRIORITY_CHOICES,
  priorityNumber,
  type SubmitRequest,
  type SubmitResponse,
} from "../contract/mod.ts";
import type { SchedulerService } from "../scheduler/service.ts";

/** Most jobs one form submission may create. */
export const MAX_COUNT = 1000;

/** The request body, after checking. */
export interface SubmitForm {
  /** The subject the job is routed by, e.g. `job.echo`. */
  topic: string;
  /** The job's payload, as text. */
  payload: string;
  /** The wire priority number. */
  priority: number;
  /** How many copies to submit, 1 to {@linkcode MAX_COUNT}. */
  count: number;
}

const EXAMPLE: SubmitRequest = {
  topic: "job.echo",
  payload: "hello",
  priority: PRIORITY_CHOICES[1],
  count: 1,
};

/**
 * Checks a parsed JSON body: `{topic, payload?, priority?, count?}`. Returns
 * the form, or a message saying what is wrong. Topic and payload size are
 * left to the scheduler's validation, so the rules are the bus's own.
 *
 * @example
 * ```ts
 * parseSubmitForm({ topic: "job.echo", payload: "hi", count: 3 });
 * ```
 */
export function parseSubmitForm(body: unknown): SubmitForm | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return `expected a JSON object like ${JSON.stringify(EXAMPLE)}`;
  }
  const b = body as Record<string, unknown>;
  if (typeof b.topic !== "string") return "topic must be a string";
  const payload = b.payload ?? "";
  if (typeof payload !== "string") return "payload must be a string (text)";
  let priority = 0;
  if (b.priority !== undefined && b.priority !== "") {
    const p = typeof b.priority === "string"
      ? priorityNumber(b.priority)
      : undefined;
    if (p === undefined) {
      return `priority must be one of ${PRIORITY_CHOICES.join(", ")}`;
    }
    priority = p;
  }
  const count = b.count ?? 1;
  if (
    typeof count !== "number" || !Number.isInteger(count) || count < 1 ||
    count > MAX_COUNT
  ) {
    return `count must be a whole number from 1 to ${MAX_COUNT}`;
  }
  return { topic: b.topic.trim(), payload, priority, count };
}

const encoder = new TextEncoder();

/**
 * Submits `form.count` jobs through the scheduler, with ids
 * `web-<random>-<n>`, and reports what became of each.
 */
export function submitForm(
  scheduler: SchedulerService,
  form: SubmitForm,
  submitter = "dashboard",
): SubmitResponse {
  const prefix = `web-${crypto.randomUUID().slice(0, 8)}`;
  const payload = encoder.encode(form.payload);
  const response: SubmitResponse = { outcomes: [], dispatched: 0, refused: 0 };
  for (let i = 1; i <= form.count; i++) {
    const outcome = scheduler.submit({
      jobId: form.count === 1 ? prefix : `${prefix}-${i}`,
      topic: form.topic,
      priority: form.priority,
      payload,
      submitter,
    });
    if (outcome.status === "dispatched") response.dispatched++;
    else response.refused++;
    response.outcomes.push({
      status: outcome.status,
      jobId: outcome.jobId,
      traceId: outcome.traceId,
      ...("reason" in outcome ? { reason: outcome.reason } : {}),
    });
  }
  return response;
}
