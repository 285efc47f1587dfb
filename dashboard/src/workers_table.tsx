/// <reference lib="dom" />
/**
 * The workers table: one row per worker, its liveness by colour and word.
 *
 * @module
 */
import { workerHref } from "./route.ts";
import type { WorkerSummary } from "../../src/contract/mod.ts";
import { ago } from "./format.ts";
import { DrainButton } from "./action_buttons.tsx";

/** The workers, with "last seen" relative to the server's `now`. */
export function WorkersTable(
  { workers, now }: { workers: WorkerSummary[]; now: number },
) {
  const online = workers.filter((w) => w.state === "online").length;
  return (
    <section class="panel workers" aria-labelledby="workers-title">
      <header class="panel-head">
        <h2 id="workers-title">Workers</h2>
        <span class="muted">
          {online} of {workers.length} online
        </span>
      </header>
      {workers.length === 0
        ? (
          <p class="empty">
            No worker has sent a heartbeat yet. Start one with{" "}
            <code>deno task worker:echo</code>.
          </p>
        )
        : (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>Worker</th>
                  <th>Pool</th>
                  <th>Region</th>
                  <th>Type</th>
                  <th class="num">Jobs</th>
                  <th class="num">CPU</th>
                  <th>Last seen</th>
                  <th>State</th>
                </tr>
              </thead>
              <tbody>
                {workers.map((w) => (
                  <tr
                    key={w.workerId}
                    data-worker-id={w.workerId}
                    data-state={w.state}
                  >
                    <td class="mono">
                      <a
                        href={workerHref(w.workerId)}
                        title={`jobs and errors of ${w.workerId}`}
                      >
                        {w.workerId}
                      </a>
                    </td>
                    <td>{w.pool}</td>
                    <td>{w.region}</td>
                    <td>{w.type}</td>
                    <td class="num">
                      {w.activeJobs} / {w.maxParallelJobs}
                    </td>
                    <td class="num">
                      <span class="cpu">
                        <span
                          class="cpu-bar"
                          style={{
                            width: `${Math.min(100, w.cpuLoad * 100)}%`,
                          }}
                        />
                      </span>
                      {(w.cpuLoad * 100).toFixed(0)}%
                    </td>
                    <td class="muted">{ago(now - w.lastSeen)}</td>
                    <td>
                      <span class={`state state-${w.state}`}>
                        <span class="dot" aria-hidden="true" />
                        {w.state}
                        {w.left ? " (left)" : ""}
                      </span>{" "}
                      <DrainButton workerId={w.workerId} state={w.state} />
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
