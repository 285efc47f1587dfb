/// <reference lib="dom" />
/**
 * The buttons of the actions on one job or worker: Cancel (a job not yet
 * final) and Drain / Resume (a worker). Each says what it does in its ARIA
 * label and what came of it in a status line.
 *
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import { isFinal, type JobState } from "../../src/contract/mod.ts";
import { cancelJob, drainWorker } from "./api.ts";

/** Cancel for a job not yet final; nothing for a final one. */
export function CancelButton(
  { jobId, state, onDone }: {
    jobId: string;
    state: JobState;
    onDone?: () => void;
  },
) {
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState("");
  useEffect(() => setNote(""), [jobId]);
  if (isFinal(state) && !note) return null;
  const cancel = () => {
    setBusy(true);
    cancelJob(jobId).then(
      (r) => {
        setNote(`Job ${r.detail}`);
        onDone?.();
      },
      (e) => setNote(`Cannot cancel: ${String(e.message ?? e)}`),
    ).finally(() => setBusy(false));
  };
  return (
    <>
      {!isFinal(state) && (
        <button
          type="button"
          class="button"
          data-cancel
          disabled={busy}
          aria-label={`cancel job ${jobId}`}
          onClick={cancel}
        >
          {busy ? "Cancelling…" : "Cancel"}
        </button>
      )}
      {note && <span role="status" class="muted">{note}</span>}
    </>
  );
}

/** Drain for an online worker, Resume for a draining one; nothing otherwise. */
export function DrainButton(
  { workerId, state }: { workerId: string; state: string },
) {
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState("");
  if (state !== "online" && state !== "draining") return null;
  const resume = state === "draining";
  const act = () => {
    setBusy(true);
    drainWorker(workerId, resume).then(
      (r) => setNote(r.detail),
      (e) =>
        setNote(`Cannot ${resume ? "resume" : "drain"}: ${e.message ?? e}`),
    ).finally(() => setBusy(false));
  };
  return (
    <>
      <button
        type="button"
        class="button"
        data-drain={resume ? "resume" : "drain"}
        disabled={busy}
        aria-label={resume
          ? `resume worker ${workerId}: take jobs again`
          : `drain worker ${workerId}: finish its jobs, take no new ones`}
        onClick={act}
      >
        {resume ? "Resume" : "Drain"}
      </button>
      {note && <span role="status" class="muted">{note}</span>}
    </>
  );
}
