/// <reference lib="dom" />
/**
 * The audit log: every action taken through the API (submissions,
 * retries), newest first, with what, of what, how many, how it ended, when
 * and from where.
 *
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import type { AuditResponse } from "../../src/contract/mod.ts";
import { fetchAudit } from "./api.ts";
import { clock, count } from "./format.ts";

/** The audit view: loaded when opened, and again on Refresh. */
export function AuditView() {
  const [audit, setAudit] = useState<AuditResponse | undefined>();
  const [error, setError] = useState("");
  const [reloads, setReloads] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    fetchAudit(controller.signal).then(
      (a) => {
        setAudit(a);
        setError("");
      },
      (e: Error) => !controller.signal.aborted && setError(e.message),
    );
    return () => controller.abort();
  }, [reloads]);

  return (
    <section class="panel" aria-labelledby="audit-title">
      <header class="panel-head">
        <h2 id="audit-title">Audit log</h2>
        <div class="toolbar">
          {audit && (
            <span class="muted">
              newest {count(audit.capacity)}{" "}
              kept; every entry is also in the scheduler's log
            </span>
          )}
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
      {audit && audit.entries.length === 0 && (
        <p class="empty">No action yet: submissions and retries appear here.</p>
      )}
      {audit && audit.entries.length > 0 && (
        <div class="scroll">
          <table class="jobs" aria-label="audit log">
            <thead>
              <tr>
                <th>When</th>
                <th>Action</th>
                <th>Of</th>
                <th>Filter</th>
                <th class="num">Jobs</th>
                <th>Result</th>
                <th>From</th>
              </tr>
            </thead>
            <tbody>
              {audit.entries.map((e, i) => (
                <tr key={`${e.at}-${i}`} data-audit-action={e.action}>
                  <td class="mono muted">
                    {new Date(e.at).toLocaleDateString("en-CA")} {clock(e.at)}
                  </td>
                  <td>{e.action}</td>
                  <td class="mono ellipsis" title={e.target}>
                    {e.target || "—"}
                  </td>
                  <td class="mono ellipsis">
                    {e.filter ? JSON.stringify(e.filter) : "—"}
                  </td>
                  <td class="num">{count(e.count)}</td>
                  <td class="wrap">
                    <span
                      class={`badge ${
                        e.status < 300 ? "badge-completed" : "badge-failed"
                      }`}
                    >
                      {e.status}
                    </span>{" "}
                    {e.outcome}
                  </td>
                  <td class="mono audit-from" title={e.from.userAgent}>
                    <span class="ellipsis">{e.from.address || "—"}</span>
                    {e.from.origin && (
                      <span class="ellipsis muted">{e.from.origin}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
