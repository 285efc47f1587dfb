/// <reference lib="dom" />
/**
 * The live jobs feed, newest first, with its filters and pause button. Only
 * a bounded window of rows is rendered, so a flood of jobs costs the page
 * the same as a trickle.
 *
 * @module
 */
import { JOB_STATES, type JobSummary } from "../../src/contract/mod.ts";
import type { JobFilter } from "./api.ts";
import { clock, duration } from "./format.ts";

/** Rows rendered at most. */
export const FEED_ROWS = 200;

/** The status filter's choice for dead-lettered jobs (not a state: FAILED ones). */
const DEAD_LETTERED = "dead-lettered";

/** Whether `job` passes `filter`. */
export function matches(job: JobSummary, filter: JobFilter): boolean {
  return (filter.status === "" || job.state === filter.status) &&
    (!filter.deadLettered || job.deadLettered === true) &&
    (filter.topic === "" || job.topic === filter.topic) &&
    (filter.q === "" ||
      job.jobId.toLowerCase().includes(filter.q.toLowerCase()));
}

/** A job's state as a coloured badge that also says it in words. */
export function StatusBadge({ state }: { state: string }) {
  return <span class={`badge badge-${state.toLowerCase()}`}>{state}</span>;
}

/** Props of {@linkcode JobsFeed}. */
export interface JobsFeedProps {
  jobs: JobSummary[];
  topics: string[];
  filter: JobFilter;
  onFilter: (filter: JobFilter) => void;
  paused: boolean;
  onPause: (paused: boolean) => void;
  sampled: boolean;
  selected?: string;
  onSelect: (jobId: string) => void;
}

/** The feed panel. */
export function JobsFeed(props: JobsFeedProps) {
  const { filter, onFilter } = props;
  const rows = props.jobs.filter((j) => matches(j, filter)).slice(
    0,
    FEED_ROWS,
  );
  return (
    <section class="panel feed" aria-labelledby="feed-title">
      <header class="panel-head">
        <h2 id="feed-title">Jobs</h2>
        <div class="toolbar">
          <input
            type="search"
            class="search"
            placeholder="Search job id"
            aria-label="search by job id"
            value={filter.q}
            onInput={(e) =>
              onFilter({ ...filter, q: e.currentTarget.value.trim() })}
          />
          <select
            aria-label="filter by status"
            value={filter.deadLettered ? DEAD_LETTERED : filter.status}
            onChange={(e) =>
              onFilter({
                ...filter,
                status: e.currentTarget.value === DEAD_LETTERED
                  ? ""
                  : e.currentTarget.value,
                deadLettered: e.currentTarget.value === DEAD_LETTERED,
              })}
          >
            <option value="">All statuses</option>
            {JOB_STATES.map((s) => <option key={s} value={s}>{s}</option>)}
            <option value={DEAD_LETTERED}>Dead-lettered</option>
          </select>
          <select
            aria-label="filter by topic"
            value={filter.topic}
            onChange={(e) =>
              onFilter({ ...filter, topic: e.currentTarget.value })}
          >
            <option value="">All topics</option>
            {props.topics.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
          <button
            type="button"
            class={props.paused ? "button primary" : "button"}
            aria-pressed={props.paused}
            onClick={() => props.onPause(!props.paused)}
          >
            {props.paused ? "Resume" : "Pause"}
          </button>
        </div>
      </header>
      {props.paused && (
        <p class="notice">Feed paused: counters keep going, rows stay still.</p>
      )}
      {props.sampled && !props.paused && (
        <p class="notice">
          Many jobs per second: the feed shows the most recent ones.
        </p>
      )}
      <div class="scroll feed-scroll">
        <table class="jobs">
          <thead>
            <tr>
              <th>Job</th>
              <th>Topic</th>
              <th>Status</th>
              <th>Worker</th>
              <th class="num">Exec</th>
              <th class="num">Round trip</th>
              <th>Time</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((job) => (
              <tr
                key={job.jobId}
                data-job-id={job.jobId}
                data-state={job.state}
                class={job.jobId === props.selected ? "selected" : undefined}
                tabIndex={0}
                onClick={() => props.onSelect(job.jobId)}
                onKeyDown={(e) => {
                  if (e.key === "Enter") props.onSelect(job.jobId);
                }}
              >
                <td class="mono ellipsis" title={job.jobId}>{job.jobId}</td>
                <td class="ellipsis" title={job.topic}>{job.topic}</td>
                <td>
                  <StatusBadge state={job.state} />
                </td>
                <td class="mono ellipsis" title={job.workerId}>
                  {job.workerId || "—"}
                </td>
                <td class="num">
                  {job.finishedAt === null || job.workerId === ""
                    ? "—"
                    : duration(job.executionMs)}
                </td>
                <td class="num">{duration(job.roundTripMs)}</td>
                <td class="muted mono">{clock(job.submittedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 && (
          <p class="empty">
            {props.jobs.length === 0
              ? "No jobs yet. Submit one with the form, or deno task submit."
              : "No job matches these filters."}
          </p>
        )}
      </div>
    </section>
  );
}
