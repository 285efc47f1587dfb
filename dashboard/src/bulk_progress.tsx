/// <reference lib="dom" />
/**
 * The progress of a bulk action running in the background: a progress bar
 * with its figures in words (announced politely), and a Stop button while
 * it runs. The figures come over the event stream (`bulk` events, through
 * {@linkcode BulkFeed}); the action's progress is read once from
 * `GET /api/bulk/:id` only while the stream has not told of it (at first,
 * or after a reconnection that missed its end).
 *
 * @module
 */
import { createContext } from "preact";
import { useContext, useEffect, useRef, useState } from "preact/hooks";
import type { BulkHandle, BulkProgress } from "../../src/contract/mod.ts";
import { fetchBulk, stopBulk } from "./api.ts";
import { count } from "./format.ts";

/** How long to wait before reading again after a failed read. */
const RETRY_MS = 2000;

/** The bulk actions' progress the event stream brought, by id (the store's `bulk`). */
export const BulkFeed = createContext<ReadonlyMap<string, BulkProgress>>(
  new Map(),
);

/** The further along of two readings of one action: an end is final. */
function latest(
  a: BulkProgress | undefined,
  b: BulkProgress | undefined,
): BulkProgress | undefined {
  if (!a || !b) return a ?? b;
  if (a.state !== "running") return a;
  if (b.state !== "running") return b;
  return a.done >= b.done ? a : b;
}

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
  const streamed = useContext(BulkFeed).get(handle.id);
  const [read, setRead] = useState<BulkProgress | undefined>();
  const [error, setError] = useState("");
  const [stopping, setStopping] = useState(false);
  const progress = latest(streamed, read);
  const heard = streamed !== undefined;
  useEffect(() => {
    if (heard) {
      setError(""); // a failed read no longer matters: the stream tells
      return;
    }
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const once = () =>
      fetchBulk(handle.href, controller.signal).then(
        (p) => {
          setRead(p);
          setError("");
        },
        (e: Error) => {
          if (controller.signal.aborted) return;
          setError(e.message);
          timer = setTimeout(once, RETRY_MS);
        },
      );
    once();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [handle.href, heard]);
  const ended = useRef(false);
  useEffect(() => {
    if (!progress || progress.state === "running" || ended.current) return;
    ended.current = true;
    onEnd?.(progress);
  }, [progress?.state]);

  const stop = () => {
    setStopping(true);
    stopBulk(handle.href).then(
      (p) => setRead(p),
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
