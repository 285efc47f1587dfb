/**
 * Routing: which subject a job is dispatched to.
 *
 * @module
 */
import type { JobRequest } from "../bus/messages.ts";

/** Picks the subject a job is dispatched to. */
export interface Strategy {
  route(job: JobRequest): string;
}

/** The original MVP's strategy: a job goes to the subject named by its topic. */
export class NaiveStrategy implements Strategy {
  route(job: JobRequest): string {
    return job.topic;
  }
}
