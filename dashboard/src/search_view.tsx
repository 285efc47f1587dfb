/// <reference lib="dom" />
/**
 * Search through history: every job the scheduler's history holds (in
 * durable mode, the whole ledger, also after a restart), by id prefix,
 * topic, status, worker, time and text, a page at a time.
 *
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import { JOB_STATES, type JobsResponse } from "../../src/contract/mod.ts";
import { type SearchFilter, searchJobs } from "./api.ts";
import { count } from "./format.ts";
import { HistoryTable, usePager } from "./history_table.tsx";
import { BulkPanel } from "./bulk_panel.tsx";

const EMPTY: SearchFilter = {
  idPrefix: "",
  topic: "",
  status: "",
  worker: "",
  since: "",
  until: "",
  text: "",
};

const FIELDS: {
  key: keyof SearchFilter;
  label: string;
  type: string;
  placeholder?: string;
}[] = [
  { key: "text", label: "Text in payload, output or error", type: "search" },
  { key: "idPrefix", label: "Job id starts with", type: "text" },
  { key: "topic", label: "Topic", type: "text", placeholder: "job.echo" },
  { key: "worker", label: "Worker", type: "text" },
  { key: "since", label: "Submitted from", type: "datetime-local" },
  { key: "until", label: "Submitted before", type: "datetime-local" },
];

/** The search view. */
export function SearchView({ onSelect }: { onSelect: (id: string) => void }) {
  const [draft, setDraft] = useState<SearchFilter>(EMPTY);
  const [applied, setApplied] = useState<SearchFilter>(EMPTY);
  const pager = usePager();
  const [result, setResult] = useState<JobsResponse | undefined>();
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    setBusy(true);
    searchJobs(applied, pager.cursor, controller.signal).then(
      (page) => {
        setResult(page);
        setError("");
        setBusy(false);
      },
      (e: Error) => {
        if (controller.signal.aborted) return;
        setError(e.message);
        setBusy(false);
      },
    );
    return () => controller.abort();
  }, [applied, pager.cursor]);

  const submit = (e: Event) => {
    e.preventDefault();
    pager.reset();
    setApplied({ ...draft });
  };

  return (
    <section class="panel" aria-labelledby="search-title">
      <header class="panel-head">
        <h2 id="search-title">Search through history</h2>
        {result && (
          <span class="muted" data-history-size={result.history}>
            {count(result.history)} jobs held
          </span>
        )}
      </header>
      <form class="search-form" role="search" onSubmit={submit}>
        {FIELDS.map(({ key, label, type, placeholder }) => (
          <label key={key}>
            <span>{label}</span>
            <input
              type={type}
              name={key}
              value={draft[key]}
              placeholder={placeholder}
              onInput={(e) =>
                setDraft({ ...draft, [key]: e.currentTarget.value })}
            />
          </label>
        ))}
        <label>
          <span>Status</span>
          <select
            name="status"
            value={draft.status}
            onChange={(e) =>
              setDraft({ ...draft, status: e.currentTarget.value })}
          >
            <option value="">Any status</option>
            {JOB_STATES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <div class="search-actions">
          <button type="submit" class="button primary">Search</button>
          <button
            type="button"
            class="button"
            onClick={() => {
              setDraft(EMPTY);
              pager.reset();
              setApplied(EMPTY);
            }}
          >
            Clear
          </button>
          <span class="muted" aria-live="polite">
            {busy ? "Searching…" : ""}
          </span>
        </div>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <BulkPanel filter={applied} />
      {result && (
        <HistoryTable
          jobs={result.jobs}
          label="search results"
          page={pager.page}
          nextCursor={result.nextCursor}
          onNext={pager.next}
          onPrevious={pager.previous}
          onSelect={onSelect}
        />
      )}
    </section>
  );
}
