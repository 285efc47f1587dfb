/// <reference lib="dom" />
/**
 * A page of jobs from history (search results, a worker's jobs), with
 * buttons to page through them by cursor.
 *
 * @module
 */
import { useState } from "preact/hooks";
import type { JobSummary } from "../../src/contract/mod.ts";
import { clock, duration } from "./format.ts";
import { StatusBadge } from "./jobs_feed.tsx";
import { workerHref } from "./route.ts";

/** Which page is shown: the cursors that led to it, so Previous can go back. */
export function usePager(): {
  cursor?: string;
  page: number;
  next: (cursor: string) => void;
  previous: () => void;
  reset: () => void;
} {
  const [cursors, setCursors] = useState<string[]>([]);
  return {
    cursor: cursors[cursors.length - 1],
    page: cursors.length + 1,
    next: (cursor) => setCursors([...cursors, cursor]),
    previous: () => setCursors(cursors.slice(0, -1)),
    reset: () => setCursors([]),
  };
}

/** The table and its pager. */
export function HistoryTable(
  { jobs, label, page, nextCursor, onNext, onPrevious, onSelect }: {
    jobs: JobSummary[];
    label: string;
    page: number;
    nextCursor: string | null;
    onNext: (cursor: string) => void;
    onPrevious: () => void;
    onSelect: (jobId: string) => void;
  },
) {
  return (
    <div>
      <div class="scroll">
        <table class="jobs" aria-label={label}>
          <thead>
            <tr>
              <th>Job</th>
              <th>Topic</th>
              <th>Status</th>
              <th>Worker</th>
              <th class="num">Exec</th>
              <th>Submitted</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => (
              <tr key={job.jobId} data-history-job={job.jobId}>
                <td class="mono ellipsis">
                  <button
                    type="button"
                    class="link mono"
                    onClick={() => onSelect(job.jobId)}
                    title={`show job ${job.jobId}`}
                  >
                    {job.jobId}
                  </button>
                </td>
                <td class="ellipsis" title={job.topic}>{job.topic}</td>
                <td>
                  <StatusBadge state={job.state} />
                  {job.deadLettered && <span class="flag">dead letter</span>}
                </td>
                <td class="mono ellipsis">
                  {job.workerId
                    ? <a href={workerHref(job.workerId)}>{job.workerId}</a>
                    : "—"}
                </td>
                <td class="num">
                  {job.finishedAt === null || job.workerId === ""
                    ? "—"
                    : duration(job.executionMs)}
                </td>
                <td class="muted mono">
                  {new Date(job.submittedAt).toLocaleDateString("en-CA")}{" "}
                  {clock(job.submittedAt)}
                </td>
                <td class="ellipsis" title={job.error}>{job.error}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {jobs.length === 0 && <p class="empty">No job matches.</p>}
      <nav class="pager" aria-label={`${label}: pages`}>
        <button
          type="button"
          class="button"
          disabled={page === 1}
          onClick={onPrevious}
        >
          Previous page
        </button>
        <span class="muted" aria-live="polite" data-page={page}>
          Page {page}
        </span>
        <button
          type="button"
          class="button"
          disabled={nextCursor === null}
          onClick={() => nextCursor && onNext(nextCursor)}
        >
          Next page
        </button>
      </nav>
    </div>
  );
}
