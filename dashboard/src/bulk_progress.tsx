/// <reference lib="dom" />
/**
 * The progress of a bulk action running in the background: a progress bar
 * with its figures in words (announced politely), and a Stop button while
 * it runs. Polled twice a second until it ends.
 *
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import type { BulkHandle, BulkProgress } from "../../src/contract/mod.ts";
import { fetchBulk, stopBulk } from "./api.ts";
import { count } from "./format.ts";

/** How often a running action's progress is read. */
const POLL_MS = 500;

/** One bulk action's progress. */
export function BulkProgressView(
  { handle, label, onEnd }: {
    handle: BulkHandle;
    /** What it does, e.g. "Bulk retry". */
    label: string;
    /** Called once when it has finished or stopped. */
    onEnd?: (progress: BulkProgress) => void;
  },
) {
  const [progress, setProgress] = useState<BulkProgress | undefined>();
  const [error, setError] = useState("");
  const [stopping, setStopping] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = () =>
      fetchBulk(handle.href, controller.signal).then(
        (p) => {
          setProgress(p);
          setError("");
          if (p.state === "running") timer = setTimeout(read, POLL_MS);
          else onEnd?.(p);
        },
        (e: Error) => {
          if (controller.signal.aborted) return;
          setError(e.message);
          timer = setTimeout(read, POLL_MS * 4);
        },
      );
    read();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [handle.href]);

  const stop = () => {
    setStopping(true);
    stopBulk(handle.href).then(
      (p) => setProgress(p),
      (e: Error) => setError(e.message),
    );
  };
  const running = !progress || progress.state === "running";
  return (
    <div
      class="bulk-progress"
      data-bulk={handle.id}
      data-bulk-state={progress?.state ?? "running"}
    >
      <progress
        max={progress?.matched ?? 1}
        value={progress?.done ?? 0}
        aria-label={`${label} progress`}
      />
      <span aria-live="polite" role="status">
        {label}: {progress
          ? `${count(progress.done)} of ${count(progress.matched)} done (${
            count(progress.succeeded)
          } succeeded, ${count(progress.failed)} refused) — ${progress.state}`
          : "starting…"}
      </span>
      {running && (
        <button
          type="button"
          class="button"
          onClick={stop}
          disabled={stopping}
          data-bulk-stop
        >
          {stopping ? "Stopping…" : "Stop"}
        </button>
      )}
      {progress && progress.errors.length > 0 && (
        <details>
          <summary>First refusals</summary>
          <ul>
            {progress.errors.map((e) => (
              <li key={e.jobId}>
                <span class="mono">{e.jobId}</span>: {e.error}
              </li>
            ))}
          </ul>
        </details>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
