/// <reference lib="dom" />
/**
 * Dead letters: jobs that failed every attempt, grouped by their error
 * (numbers and ids masked), with each group's count, topics and time span,
 * and each job's attempts (worker, error, time). Retry one job, retry a
 * group, discard one or a group; a group's action runs in the background
 * with its progress shown. Refreshed every few seconds and after an action.
 *
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import type {
  BulkHandle,
  DeadLetterGroup,
  DeadLettersResponse,
} from "../../src/contract/mod.ts";
import { actOnGroup, discardJob, fetchDeadLetters, retryJob } from "./api.ts";
import { BulkProgressView } from "./bulk_progress.tsx";
import { ConfirmDialog } from "./confirm_dialog.tsx";
import { clock, count } from "./format.ts";

/** How often the list is read again while the view is open. */
const REFRESH_MS = 3000;

type GroupAction = "retry" | "discard";

function when(at: number): string {
  return `${new Date(at).toLocaleDateString("en-CA")} ${clock(at)}`;
}

/** One group: its figures, its actions and its newest jobs. */
function Group(
  { group, onAction, onMessage }: {
    group: DeadLetterGroup;
    onAction: (group: DeadLetterGroup, action: GroupAction) => void;
    onMessage: (message: string) => void;
  },
) {
  const titleId = `dl-group-${group.id}`;
  const one = (jobId: string, action: GroupAction) =>
    (action === "retry" ? retryJob(jobId) : discardJob(jobId)).then(
      () =>
        onMessage(
          `Job ${jobId} ${action === "retry" ? "retried" : "discarded"}.`,
        ),
      (e: Error) => onMessage(`Job ${jobId}: ${e.message}`),
    );
  return (
    <article
      class="dl-group"
      aria-labelledby={titleId}
      data-dl-group={group.id}
    >
      <header class="dl-group-head">
        <h3 id={titleId} class="mono">{group.sample}</h3>
        <div class="toolbar">
          <button
            type="button"
            class="button primary"
            onClick={() => onAction(group, "retry")}
            data-dl-retry-group
          >
            Retry group ({count(group.count)})
          </button>
          <button
            type="button"
            class="button"
            onClick={() => onAction(group, "discard")}
            data-dl-discard-group
          >
            Discard group
          </button>
        </div>
      </header>
      <dl class="dl-figures">
        <div>
          <dt>Jobs</dt>
          <dd data-dl-count={group.count}>{count(group.count)}</dd>
        </div>
        <div>
          <dt>Topics</dt>
          <dd class="mono">{group.topics.join(", ")}</dd>
        </div>
        <div>
          <dt>Newest</dt>
          <dd>{when(group.newestAt)}</dd>
        </div>
        <div>
          <dt>Oldest</dt>
          <dd>{when(group.oldestAt)}</dd>
        </div>
        <div>
          <dt>Error, normalised</dt>
          <dd class="mono">{group.error}</dd>
        </div>
      </dl>
      <div class="scroll">
        <table class="jobs" aria-label={`jobs failing with ${group.error}`}>
          <thead>
            <tr>
              <th>Job</th>
              <th>Topic</th>
              <th>Attempts (worker, error, time)</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {group.jobs.map((job) => (
              <tr key={job.jobId} data-dl-job={job.jobId}>
                <td class="mono">{job.jobId}</td>
                <td class="mono">{job.topic}</td>
                <td>
                  <ol class="dl-attempts">
                    {job.attempts.map((a, i) => (
                      <li key={i}>
                        <span class="mono">{a.workerId}</span>: {a.error}{" "}
                        <span class="muted">({clock(a.at)})</span>
                      </li>
                    ))}
                  </ol>
                </td>
                <td class="dl-actions">
                  <button
                    type="button"
                    class="button"
                    onClick={() =>
                      one(job.jobId, "retry")}
                    aria-label={`Retry job ${job.jobId}`}
                    data-dl-retry={job.jobId}
                  >
                    Retry
                  </button>
                  <button
                    type="button"
                    class="button"
                    onClick={() =>
                      one(job.jobId, "discard")}
                    aria-label={`Discard job ${job.jobId}`}
                    data-dl-discard={job.jobId}
                  >
                    Discard
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {group.jobs.length < group.count && (
        <p class="muted">
          The newest {count(group.jobs.length)} of {count(group.count)}{" "}
          shown; a group action covers all of them.
        </p>
      )}
    </article>
  );
}

/** The dead-letter view. */
export function DeadLettersView() {
  const [list, setList] = useState<DeadLettersResponse | undefined>();
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");
  const [reloads, setReloads] = useState(0);
  const [asking, setAsking] = useState<
    { group: DeadLetterGroup; action: GroupAction } | undefined
  >();
  const [running, setRunning] = useState<
    { handle: BulkHandle; label: string } | undefined
  >();
  useEffect(() => {
    const controller = new AbortController();
    const load = () =>
      fetchDeadLetters(controller.signal).then(
        (l) => {
          setList(l);
          setError("");
        },
        (e: Error) => !controller.signal.aborted && setError(e.message),
      );
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [reloads]);
  const reload = () => setReloads((n) => n + 1);
  const note = (m: string) => {
    setMessage(m);
    reload();
  };
  const confirm = () => {
    if (!asking) return;
    const { group, action } = asking;
    setAsking(undefined);
    actOnGroup(group.id, action).then(
      (r) => {
        if (r.bulk) {
          setRunning({
            handle: r.bulk,
            label: `${action === "retry" ? "Retry" : "Discard"} of ${
              count(r.matched)
            } dead letters`,
          });
        }
        reload();
      },
      (e: Error) => note(e.message),
    );
  };

  return (
    <section class="panel" aria-labelledby="dl-title">
      <header class="panel-head">
        <h2 id="dl-title">Dead letters</h2>
        <div class="toolbar">
          {list && (
            <span class="muted" data-dl-total={list.total}>
              {count(list.total)} jobs in {count(list.groups.length)}{" "}
              {list.groups.length === 1 ? "group" : "groups"}
            </span>
          )}
          <button type="button" class="button" onClick={reload}>
            Refresh
          </button>
        </div>
      </header>
      <p class="muted status-line" role="status" aria-live="polite">
        {message}
      </p>
      {error && <p class="error" role="alert">{error}</p>}
      {running && (
        <BulkProgressView
          key={running.handle.id}
          handle={running.handle}
          label={running.label}
          onEnd={reload}
        />
      )}
      {list && list.total === 0 && (
        <p class="empty">
          No dead letters: jobs that fail every attempt (durable mode) are
          listed here.
        </p>
      )}
      {list?.groups.map((group) => (
        <Group
          key={group.id}
          group={group}
          onAction={(g, a) => setAsking({ group: g, action: a })}
          onMessage={note}
        />
      ))}
      {asking && (
        <ConfirmDialog
          title={`${asking.action === "retry" ? "Retry" : "Discard"} ${
            count(asking.group.count)
          } dead letters?`}
          confirmLabel={`${asking.action === "retry" ? "Retry" : "Discard"} ${
            count(asking.group.count)
          } jobs`}
          onConfirm={confirm}
          onCancel={() => setAsking(undefined)}
        >
          <p>
            Every job failing with “{asking.group.error}”
            {asking.action === "retry"
              ? " starts again as new attempts of the same id, its history kept."
              : " is taken off this list (kept in the ledger and in search)."}
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
