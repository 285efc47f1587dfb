/// <reference lib="dom" />
/**
 * A worker's detail: what the registry knows of it now, its newest
 * failures, and the jobs it ran, a page at a time (from history, so a
 * forgotten worker's jobs are still there).
 *
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import type { WorkerDetail } from "../../src/contract/mod.ts";
import { fetchWorker } from "./api.ts";
import { ago, clock } from "./format.ts";
import { HistoryTable, usePager } from "./history_table.tsx";
import { DrainButton } from "./action_buttons.tsx";

/** The worker view. */
export function WorkerView(
  { workerId, now, onSelect }: {
    workerId: string;
    now: number;
    onSelect: (jobId: string) => void;
  },
) {
  const pager = usePager();
  const [detail, setDetail] = useState<WorkerDetail | undefined>();
  const [error, setError] = useState("");
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    fetchWorker(workerId, pager.cursor, controller.signal).then(
      (d) => {
        setDetail(d);
        setError("");
      },
      (e: Error) => !controller.signal.aborted && setError(e.message),
    );
    return () => controller.abort();
  }, [workerId, pager.cursor, reloads]);

  const w = detail?.worker;
  return (
    <section
      class="panel"
      aria-labelledby="worker-title"
      data-worker-detail={workerId}
    >
      <header class="panel-head">
        <h2 id="worker-title">
          Worker <span class="mono">{workerId}</span>
        </h2>
        <div class="toolbar">
          <a class="button" href="#">Back to overview</a>
          <button
            type="button"
            class="button"
            onClick={() => setReloads((n) => n + 1)}
          >
            Refresh
          </button>
        </div>
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      {detail && (
        <div class="worker-detail">
          <dl class="queue-figures">
            <div>
              <dt>State</dt>
              <dd data-worker-state={w?.state ?? "forgotten"}>
                {w ? w.state : "forgotten"}{" "}
                {w && <DrainButton workerId={workerId} state={w.state} />}
              </dd>
            </div>
            <div>
              <dt>Pool</dt>
              <dd>{w?.pool ?? "—"}</dd>
            </div>
            <div>
              <dt>Active / max</dt>
              <dd>{w ? `${w.activeJobs} / ${w.maxParallelJobs}` : "—"}</dd>
            </div>
            <div>
              <dt>Last seen</dt>
              <dd>{w ? ago(now - w.lastSeen) : "—"}</dd>
            </div>
          </dl>
          <h3 class="sub-title">Newest errors</h3>
          {detail.errors.length === 0
            ? <p class="empty">No failure on record.</p>
            : (
              <ul class="errors" aria-label="newest errors">
                {detail.errors.map((e) => (
                  <li key={`${e.jobId}-${e.at}`} data-worker-error={e.jobId}>
                    <span class="mono muted">{clock(e.at)}</span>{" "}
                    <button
                      type="button"
                      class="link mono"
                      onClick={() =>
                        onSelect(e.jobId)}
                    >
                      {e.jobId}
                    </button>{" "}
                    <span class="badge badge-failed">{e.state}</span>{" "}
                    <span>{e.error || "(no reason given)"}</span>
                  </li>
                ))}
              </ul>
            )}
          <h3 class="sub-title">Jobs it ran</h3>
          <HistoryTable
            jobs={detail.jobs}
            label={`jobs of worker ${workerId}`}
            page={pager.page}
            nextCursor={detail.nextCursor}
            onNext={pager.next}
            onPrevious={pager.previous}
            onSelect={onSelect}
          />
        </div>
      )}
    </section>
  );
}
