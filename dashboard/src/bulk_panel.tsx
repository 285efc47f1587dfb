/// <reference lib="dom" />
/**
 * Bulk actions from the search view's filter: pick retry or cancel (and,
 * if wanted, text the error must contain), count the matches first (a dry
 * run), confirm in a dialog, then follow the action's progress and stop it
 * if need be. The filter is the search's applied one, every field of it, so
 * the action acts on what the search found (every page of it).
 *
 * @module
 */
import { useState } from "preact/hooks";
import {
  BULK_ACTIONS,
  type BulkActionName,
  type BulkFilter,
  type BulkHandle,
} from "../../src/contract/mod.ts";
import { bulkAction, bulkFilter, type SearchFilter } from "./api.ts";
import { BulkProgressView } from "./bulk_progress.tsx";
import { ConfirmDialog } from "./confirm_dialog.tsx";
import { count } from "./format.ts";

/** A counted filter, waiting for confirmation. */
interface Counted {
  action: BulkActionName;
  filter: BulkFilter;
  matched: number;
}

function describe(filter: BulkFilter): string {
  const parts: string[] = [];
  if (filter.idPrefix) parts.push(`id starting with “${filter.idPrefix}”`);
  if (filter.status) parts.push(`status ${filter.status.join(", ")}`);
  if (filter.topic) parts.push(`topic ${filter.topic}`);
  if (filter.worker) parts.push(`run on worker ${filter.worker}`);
  if (filter.since) {
    parts.push(`from ${new Date(filter.since).toLocaleString()}`);
  }
  if (filter.until) {
    parts.push(`before ${new Date(filter.until).toLocaleString()}`);
  }
  if (filter.text) {
    parts.push(`payload, output or error containing “${filter.text}”`);
  }
  if (filter.error) parts.push(`error containing “${filter.error}”`);
  return parts.length ? parts.join("; ") : "every job in the history";
}

/** The panel, over the search's applied filter. */
export function BulkPanel({ filter }: { filter: SearchFilter }) {
  const [action, setAction] = useState<BulkActionName>("retry");
  const [error, setError] = useState("");
  const [problem, setProblem] = useState("");
  const [counted, setCounted] = useState<Counted | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [running, setRunning] = useState<
    { handle: BulkHandle; action: BulkActionName } | undefined
  >();
  const [busy, setBusy] = useState(false);

  const countMatches = () => {
    const f = bulkFilter(filter, error);
    setBusy(true);
    bulkAction(action, f, true).then(
      (r) => {
        setCounted({ action, filter: f, matched: r.matched });
        setProblem("");
        setBusy(false);
      },
      (e: Error) => {
        setProblem(e.message);
        setCounted(undefined);
        setBusy(false);
      },
    );
  };
  const confirm = () => {
    if (!counted) return;
    setConfirming(false);
    bulkAction(counted.action, counted.filter, false).then(
      (r) => {
        if (r.bulk) setRunning({ handle: r.bulk, action: counted.action });
        else setProblem("No job matches now: nothing started.");
        setCounted(undefined);
      },
      (e: Error) => setProblem(e.message),
    );
  };

  return (
    <section class="bulk-panel" aria-labelledby="bulk-title" data-bulk-panel>
      <h3 id="bulk-title">Act on every match</h3>
      <p class="muted">
        Uses the search's filter: {describe(bulkFilter(filter, error))}.
      </p>
      <div class="bulk-controls">
        <label>
          <span>Action</span>
          <select
            name="bulk-action"
            value={action}
            onChange={(e) => {
              setAction(e.currentTarget.value as BulkActionName);
              setCounted(undefined);
            }}
          >
            {BULK_ACTIONS.map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
        </label>
        <label>
          <span>Error contains</span>
          <input
            type="text"
            name="bulk-error"
            value={error}
            onInput={(e) => {
              setError(e.currentTarget.value);
              setCounted(undefined);
            }}
          />
        </label>
        <button
          type="button"
          class="button"
          onClick={countMatches}
          disabled={busy}
          data-bulk-count
        >
          Count matches
        </button>
        {counted && (
          <>
            <span role="status" data-bulk-matched={counted.matched}>
              {count(counted.matched)} jobs match
            </span>
            <button
              type="button"
              class="button primary"
              disabled={counted.matched === 0}
              onClick={() => setConfirming(true)}
              data-bulk-start
            >
              {counted.action === "retry" ? "Retry" : "Cancel"}{" "}
              {count(counted.matched)} jobs…
            </button>
          </>
        )}
      </div>
      {problem && <p class="error" role="alert">{problem}</p>}
      {confirming && counted && (
        <ConfirmDialog
          title={`${counted.action === "retry" ? "Retry" : "Cancel"} ${
            count(counted.matched)
          } jobs?`}
          confirmLabel={`${counted.action === "retry" ? "Retry" : "Cancel"} ${
            count(counted.matched)
          } jobs`}
          onConfirm={confirm}
          onCancel={() => setConfirming(false)}
        >
          <p>
            Matching{" "}
            {describe(counted.filter)}. It runs in the background and can be
            stopped; jobs not in a state for it are counted as refused.
          </p>
        </ConfirmDialog>
      )}
      {running && (
        <BulkProgressView
          key={running.handle.id}
          handle={running.handle}
          label={`Bulk ${running.action}`}
        />
      )}
    </section>
  );
}
