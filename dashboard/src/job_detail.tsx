/// <reference lib="dom" />
/**
 * A job's detail: request, result, state history and timings, in a side
 * panel. Payload and output are shown as text, never as HTML.
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { JobDetail, JobSummary } from "../../src/contract/mod.ts";
import { fetchJob, retryJob } from "./api.ts";
import { CancelButton } from "./action_buttons.tsx";
import { clock, duration, priorityLabel } from "./format.ts";
import { StatusBadge } from "./jobs_feed.tsx";

function Field(
  { label, children }: { label: string; children: ComponentChildren },
) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

/**
 * The panel for `jobId`; refetched when the feed's summary of it changes
 * state, so it follows the job live.
 */
export function JobDetailPanel(
  { jobId, summary, onClose }: {
    jobId: string;
    summary?: JobSummary;
    onClose: () => void;
  },
) {
  const [detail, setDetail] = useState<JobDetail | undefined>();
  const [error, setError] = useState("");
  const state = summary?.state;

  useEffect(() => {
    const controller = new AbortController();
    fetchJob(jobId, controller.signal).then(
      (d) => {
        setDetail(d);
        setError("");
      },
      (e) => {
        if (!controller.signal.aborted) setError(String(e.message ?? e));
      },
    );
    return () => controller.abort();
  }, [jobId, state]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [onClose]);

  const [retrying, setRetrying] = useState(false);
  const [retryNote, setRetryNote] = useState("");
  // Started again: say so, and read the detail anew (the feed's summary
  // follows through the event stream).
  const retry = () => {
    setRetrying(true);
    retryJob(jobId).then(
      (r) => {
        setRetryNote(
          `Retried: attempts ${r.firstAttempt} to ${r.maxAttempts} on ${r.subject}`,
        );
        return fetchJob(jobId).then(setDetail);
      },
      (e) => setRetryNote(`Cannot retry: ${String(e.message ?? e)}`),
    ).finally(() => setRetrying(false));
  };
  useEffect(() => setRetryNote(""), [jobId]);

  const d = detail?.jobId === jobId ? detail : undefined;
  return (
    <aside class="detail" aria-label={`job ${jobId}`} data-detail={jobId}>
      <header class="panel-head">
        <h2 class="mono ellipsis" title={jobId}>{jobId}</h2>
        <button
          type="button"
          class="button icon"
          aria-label="close"
          onClick={onClose}
        >
          ×
        </button>
      </header>
      {error && <p class="error">{error}</p>}
      {!d && !error && <p class="muted">Loading…</p>}
      {d && (
        <div class="detail-body">
          <div class="detail-state">
            <StatusBadge state={d.state} />
            {d.retryable && (
              <button
                type="button"
                class="button"
                data-retry
                disabled={retrying}
                aria-label={`retry job ${jobId} as new attempts`}
                onClick={retry}
              >
                {retrying ? "Retrying…" : "Retry"}
              </button>
            )}
            <CancelButton
              jobId={jobId}
              state={d.state}
              onDone={() => fetchJob(jobId).then(setDetail, () => {})}
            />
          </div>
          {retryNote && <p role="status" class="muted">{retryNote}</p>}
          <h3>History</h3>
          <ol class="history">
            {d.history.map((step, i) => (
              <li key={i}>
                <StatusBadge state={step.state} />
                <span class="mono">{clock(step.at)}</span>
                <span class="muted">{step.note}</span>
              </li>
            ))}
          </ol>
          {d.attempts.length > 0 && (
            <>
              <h3>
                {`Attempts (${d.attempts.length} of ${d.maxAttempts})`}
                {d.deadLettered && <span class="muted">· dead-lettered</span>}
              </h3>
              <ol class="history" data-attempts>
                {d.attempts.map((a) => (
                  <li key={a.attempt}>
                    <StatusBadge state={a.state} />
                    <span class="mono">{clock(a.at)}</span>
                    <span class="mono">{a.workerId || "—"}</span>
                    <span class="muted">
                      {a.error || duration(a.executionMs)}
                    </span>
                  </li>
                ))}
              </ol>
            </>
          )}
          <h3>Timings</h3>
          <dl>
            <Field label="Dispatch">{duration(d.timings.dispatchMs)}</Field>
            <Field label="Execution">{duration(d.timings.executionMs)}</Field>
            <Field label="Round trip">
              {duration(d.timings.roundTripMs)}
            </Field>
          </dl>
          <h3>Request</h3>
          <dl>
            <Field label="Topic">{d.request.topic}</Field>
            <Field label="Priority">
              <span data-priority={d.request.priority}>
                {priorityLabel(d.request.priority)}
              </span>{" "}
              <span class="muted">
                (not used for order: jobs are dispatched as they arrive)
              </span>
            </Field>
            <Field label="Submitter">{d.request.submitter || "—"}</Field>
            <Field label="Trace id">
              <span class="mono">{d.traceId || "—"}</span>
            </Field>
            {d.request.contextPtr && (
              <Field label="Context">{d.request.contextPtr}</Field>
            )}
            {d.request.adapterId && (
              <Field label="Adapter">{d.request.adapterId}</Field>
            )}
            <Field label="Payload">{`${d.request.payloadBytes} bytes`}</Field>
          </dl>
          {d.request.payloadPreview && (
            <pre class="payload" data-payload>{d.request.payloadPreview}</pre>
          )}
          {d.result && (
            <>
              <h3>Result</h3>
              <dl>
                <Field label="Worker">
                  <span class="mono">{d.result.workerId || "—"}</span>
                </Field>
                {d.result.error && (
                  <Field label="Error">{d.result.error}</Field>
                )}
                {d.result.resultPtr && (
                  <Field label="Result at">{d.result.resultPtr}</Field>
                )}
                <Field label="Output">
                  {`${d.result.outputBytes} bytes`}
                </Field>
              </dl>
              {d.result.outputPreview && (
                <pre class="payload" data-output>{d.result.outputPreview}</pre>
              )}
            </>
          )}
        </div>
      )}
    </aside>
  );
}
