/**
 * Routing: which subject a job is dispatched to.
 *
 * @module
 */
import type { JobRequest } from "../bus/messages.ts";

/** Picks the subject a job is dispatched to. */
export interface Strategy {
  /** The subject `job` is published to when it is dispatched. */
  route(job: JobRequest): string;
}

/** The original MVP's strategy: a job goes to the subject named by its topic. */
export class NaiveStrategy implements Strategy {
  /** The job's topic, as it is. */
  route(job: JobRequest): string {
    return job.topic;
  }
}
