/**
 * Operator scenario o1, search through a big history (issue 12): writes
 * `sizes.searchJobs` finished jobs (one in ten FAILED, six payload words,
 * eight workers, submitted over the last hour) into the ledger of a fresh
 * JetStream server, starts a durable CortexOS on it (the scheduler reads the
 * ledger whole at start), then times `GET /api/jobs` searches from outside,
 * as the dashboard makes them, each `sizes.searchRepeat` times.
 *
 * @module
 */
import { startNatsServer } from "../../support/nats_server.ts";
import type { LedgerEntry } from "../../../src/scheduler/ledger.ts";
import { type JobsResponse, JobState } from "../../../src/contract/mod.ts";
import type { Sizes } from "../args.ts";
import { Cortex, MB } from "../cluster.ts";
import { memory } from "../proc.ts";
import type { SearchQuery, SearchScenario } from "../document.ts";
import { log } from "../runs.ts";
import { fillLedger, quantile, tenth } from "./ledger_fill.ts";

const WORDS = ["invoice", "resize", "report", "thumbnail", "export", "email"];
const HOUR = 3_600_000;
/** Jobs a page when walking the history to its middle by cursor. */
const WALK_PAGE = 1000;

/** Job `i` of `jobs` as the ledger keeps a finished one; one in ten failed. */
function entry(i: number, jobs: number, now: number): LedgerEntry {
  const failed = i % 10 === 0;
  const state = failed ? JobState.FAILED : JobState.COMPLETED;
  const at = now - HOUR + Math.floor((i / jobs) * HOUR);
  const worker = `bench-worker-${i % 8}`;
  const error = failed ? `disk full on volume ${i % 97}` : "";
  return {
    v: 1,
    jobId: `bench-${String(i).padStart(6, "0")}`,
    traceId: crypto.randomUUID().replaceAll("-", ""),
    topic: i % 3 === 0 ? "job.resize" : "job.echo",
    priority: 0,
    submitter: "search-bench",
    contextPtr: "",
    adapterId: "",
    envVars: {},
    payloadBytes: 40,
    payloadPreview: `${WORDS[i % WORDS.length]} for customer ${
      i * 7919 % jobs
    }`,
    state,
    subject: "job.echo",
    maxAttempts: 1,
    attempts: [{
      attempt: 1,
      workerId: worker,
      state,
      error,
      executionMs: 3,
      at: at + 10,
    }],
    workerId: worker,
    executionMs: 3,
    resultPtr: "",
    outputBytes: 0,
    output: "",
    error,
    deadLettered: failed,
    duplicates: 0,
    submitSeq: i + 1,
    change: "final",
    submittedAt: at,
    dispatchedAt: at + 1,
    finishedAt: at + 10,
    deadline: at + 60_000,
  };
}

/** o1 on a nats-server and a durable CortexOS of its own. */
export async function search(sizes: Sizes): Promise<SearchScenario> {
  const jobs = sizes.searchJobs;
  const repeat = sizes.searchRepeat;
  await using nats = await startNatsServer();
  const now = Date.now();
  log(`o1 search: writing ${jobs} finished jobs into the ledger`);
  const fillS = await fillLedger(nats, jobs, (i) => entry(i, jobs, now));
  log(`o1 search: ${jobs} jobs written in ${fillS} s`);
  const cortex = await Cortex.start(nats, { durable: true });
  try {
    const loadStart = performance.now();
    await cortex.scheduler.waitFor(/ledger loaded: \d+ jobs/, 300_000);
    const url = `${cortex.dashboardUrl}/api/jobs`;
    const get = async (query: string): Promise<JobsResponse> => {
      const res = await fetch(`${url}?${query}`);
      if (!res.ok) throw new Error(`${query}: HTTP ${res.status}`);
      return await res.json();
    };
    // The dashboard listens a moment after the ledger is loaded: refused
    // until then. Bounded: 600 tries, half a second apart.
    for (let i = 0; i < 600; i++) {
      const held = await get("limit=1").then((r) => r.history, () => 0);
      if (held >= jobs) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const searchableS = tenth((performance.now() - loadStart) / 1000);
    log(`o1 search: history searchable ${searchableS} s after CortexOS was up`);
    // Walk by cursor to the middle of the history (at most jobs/1000 pages).
    let cursor: string | undefined;
    let walked = 0;
    while (walked < jobs / 2) {
      const page = await get(
        `limit=${WALK_PAGE}${cursor ? `&cursor=${cursor}` : ""}`,
      );
      walked += page.jobs.length;
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    const queries: [string, string][] = [
      ["newest page, no filter", "limit=50"],
      [
        "text matching one job",
        `limit=50&text=${encodeURIComponent("customer 77777")}`,
      ],
      ["text matching none (whole history)", "limit=50&text=nowhere-at-all"],
      ["text matching 1 job in 6", "limit=50&text=thumbnail"],
      ["id prefix", "limit=50&idPrefix=bench-0500"],
      ["status FAILED + topic", "limit=50&status=FAILED&topic=job.resize"],
      ["worker", "limit=50&worker=bench-worker-3"],
      [
        "error text, last 10 min",
        `limit=50&text=volume%2042&since=${now - 600_000}`,
      ],
      [`a page by cursor (${walked} in)`, `limit=50&cursor=${cursor ?? ""}`],
    ];
    const results: SearchQuery[] = [];
    for (const [name, query] of queries) {
      const times: number[] = [];
      let matched = 0;
      for (let i = 0; i < repeat; i++) {
        const t = performance.now();
        matched = (await get(query)).jobs.length;
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      results.push({
        name,
        query,
        matched,
        p50_ms: tenth(quantile(times, 0.5)),
        p95_ms: tenth(quantile(times, 0.95)),
        max_ms: tenth(times[times.length - 1]),
      });
    }
    const m = await memory(cortex.scheduler.pid);
    return {
      jobs,
      repeat,
      fill_s: fillS,
      searchable_s: searchableS,
      queries: results,
      p95_ms: Math.max(...results.map((q) => q.p95_ms)),
      max_ms: Math.max(...results.map((q) => q.max_ms)),
      scheduler_rss_mb: tenth(m.rss / MB),
      scheduler_peak_rss_mb: tenth(m.hwm / MB),
    };
  } finally {
    await cortex.stop();
  }
}
