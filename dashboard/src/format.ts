/**
 * How times, durations and numbers read in the dashboard.
 *
 * @module
 */
import { JOB_PRIORITIES, Priority } from "../../src/contract/mod.ts";

/**
 * How long ago `ms` milliseconds is, in words: "just now", "3 s ago", "4 min ago".
 *
 * @example
 * ```ts
 * ago(3_200); // "3 s ago"
 * ```
 */
export function ago(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 1) return "just now";
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

/**
 * A duration: "7 ms", "1.25 s", or "—" when unknown.
 *
 * @example
 * ```ts
 * duration(1250); // "1.25 s"
 * ```
 */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** A time of day with milliseconds, 24-hour: "14:03:07.215". */
export function clock(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${
    pad(d.getMilliseconds(), 3)
  }`;
}

/** A count with thousands separators: "12,345". */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/**
 * A job's priority in words: the name the submitter chose, lower case as
 * they type it; "none given" for `UNSPECIFIED`, which is what the job
 * carries when none was given (the scheduler applies no default); a wire
 * number this version does not know, as such.
 *
 * @example
 * ```ts
 * priorityLabel("UNSPECIFIED"); // "none given"
 * priorityLabel("BATCH"); // "batch"
 * ```
 */
export function priorityLabel(priority: string): string {
  if (priority === Priority.UNSPECIFIED) return "none given";
  return (JOB_PRIORITIES as readonly string[]).includes(priority)
    ? priority.toLowerCase()
    : `${priority} (a number this version does not know)`;
}
