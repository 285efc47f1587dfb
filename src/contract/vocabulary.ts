/**
 * The job vocabulary: states, final statuses and priorities, with their
 * names as the API, the CLI and the UI show them and their numbers on the
 * wire (`cortex.v1.JobStatus`, `cortex.v1.JobPriority`).
 *
 * This module imports nothing, protobuf least of all, so the browser UI can
 * import it without bundling generated code. Adding a state here is the one
 * edit: every `Record<JobState, …>` elsewhere then fails to type-check until
 * it handles the new state.
 *
 * @module
 */

/**
 * The states a job can be in, by name: write `JobState.DISPATCHED`, not the
 * string, so that this module holds the only copy of each.
 */
export const JobState = {
  PENDING: "PENDING",
  DISPATCHED: "DISPATCHED",
  COMPLETED: "COMPLETED",
  FAILED: "FAILED",
  DENIED: "DENIED",
  TIMEOUT: "TIMEOUT",
  CANCELLED: "CANCELLED",
} as const;

/** Where a job is in its life. */
export type JobState = typeof JobState[keyof typeof JobState];

/** Every state, in the order of a job's life. */
export const JOB_STATES: readonly JobState[] = Object.values(JobState);

/** The states a job ends in: one per `JobStatus` a result can carry. */
export type FinalState = Exclude<JobState, "PENDING" | "DISPATCHED">;

/**
 * The final states by their number on the wire (`cortex.v1.JobStatus`);
 * `UNSPECIFIED` (0) stands first, so the index is the number.
 */
export const JOB_STATUSES = [
  "UNSPECIFIED",
  JobState.COMPLETED,
  JobState.FAILED,
  JobState.TIMEOUT,
  JobState.DENIED,
  JobState.CANCELLED,
] as const;

/** Every final state, in the order of {@linkcode JOB_STATUSES}. */
export const FINAL_STATES = JOB_STATUSES.slice(1) as readonly FinalState[];

/** Whether `state` is one a job ends in. */
export function isFinal(state: JobState): state is FinalState {
  return (FINAL_STATES as readonly JobState[]).includes(state);
}

/**
 * The final state a wire status number stands for. A number this version
 * does not know, and `UNSPECIFIED`, count as FAILED: a result that does not
 * say it succeeded did not.
 *
 * @example
 * ```ts
 * finalState(1); // "COMPLETED"
 * finalState(0); // "FAILED"
 * ```
 */
export function finalState(status: number): FinalState {
  const name = JOB_STATUSES[status];
  return name === undefined || name === "UNSPECIFIED" ? JobState.FAILED : name;
}

/**
 * The wire status number of a final state.
 *
 * @example
 * ```ts
 * statusNumber("DENIED"); // 4
 * ```
 */
export function statusNumber(state: FinalState): number {
  return JOB_STATUSES.indexOf(state);
}

/** A job's priorities, by name, as the API shows them. */
export const Priority = {
  UNSPECIFIED: "UNSPECIFIED",
  BATCH: "BATCH",
  INTERACTIVE: "INTERACTIVE",
  CRITICAL: "CRITICAL",
} as const;

/** A job's priority, as the API shows it. */
export type JobPriorityName = typeof Priority[keyof typeof Priority];

/** Priorities by their number on the wire (`cortex.v1.JobPriority`). */
export const JOB_PRIORITIES = [
  Priority.UNSPECIFIED,
  Priority.BATCH,
  Priority.INTERACTIVE,
  Priority.CRITICAL,
] as const;

/**
 * The priorities a submitter may choose, lower case as the CLI's
 * `--priority` and the dashboard's form take them (no choice: UNSPECIFIED).
 */
export const PRIORITY_CHOICES: readonly string[] = JOB_PRIORITIES.slice(1)
  .map((name) => name.toLowerCase());

/**
 * The name of a wire priority number; a number this version does not know
 * is shown as that number.
 *
 * @example
 * ```ts
 * priorityName(2); // "INTERACTIVE"
 * priorityName(9); // "9"
 * ```
 */
export function priorityName(priority: number): JobPriorityName | string {
  return JOB_PRIORITIES[priority] ?? String(priority);
}

/**
 * The wire number of a priority name, in any case (`"batch"`, `"BATCH"`);
 * `undefined` for a name that is not one.
 *
 * @example
 * ```ts
 * priorityNumber("critical"); // 3
 * priorityNumber("urgent"); // undefined
 * ```
 */
export function priorityNumber(name: string): number | undefined {
  const index = (JOB_PRIORITIES as readonly string[]).indexOf(
    name.toUpperCase(),
  );
  return index < 0 ? undefined : index;
}

/**
 * Every state a worker can be in: its liveness, judged by the heartbeats
 * it missed, and `draining` for an online worker asked to drain (it
 * finishes what it holds and takes nothing new).
 */
export const WORKER_STATES = [
  "online",
  "draining",
  "stale",
  "offline",
] as const;

/** A worker's state. */
export type WorkerState = typeof WORKER_STATES[number];

/** The counter of jobs that ended in each final state. */
export type FinalCounts = { [S in FinalState as Lowercase<S>]: number };

/**
 * The key of a final state in {@linkcode FinalCounts}.
 *
 * @example
 * ```ts
 * finalCountKey("TIMEOUT"); // "timeout"
 * ```
 */
export function finalCountKey(state: FinalState): keyof FinalCounts {
  return state.toLowerCase() as keyof FinalCounts;
}
