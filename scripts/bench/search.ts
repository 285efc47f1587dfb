/**
 * Search through history with a big ledger: writes `--jobs` finished jobs
 * (default 100,000) into the ledger of a fresh JetStream server, starts a
 * durable CortexOS on it (the scheduler reads the ledger whole at start),
 * then times `GET /api/jobs` searches from outside, as the dashboard makes
 * them. Not part of `deno task bench`: filling the ledger alone takes a
 * while. Run it with:
 *
 * ```sh
 * deno run --allow-run=deno,nats-server,cat --allow-net=127.0.0.1 --allow-read \
 *   --allow-write=/tmp --allow-env scripts/bench/search.ts --jobs 100000
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { startNatsServer } from "../support/nats_server.ts";
import { LedgerStore } from "../../src/scheduler/ledger_store.ts";
import type { LedgerEntry } from "../../src/scheduler/ledger.ts";
import type { JobsResponse } from "../../src/contract/mod.ts";
import { Cortex, MB } from "./cluster.ts";
import { memory } from "./proc.ts";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "100000" },
    repeat: { type: "string", default: "20" },
  },
});
const JOBS = Number(values.jobs);
const REPEAT = Number(values.repeat);
const log = (line: string) => console.error(`search bench: ${line}`);
const WORDS = ["invoice", "resize", "report", "thumbnail", "export", "email"];
const HOUR = 3_600_000;

/** A finished job as the ledger keeps it; one in ten failed. */
function entry(i: number, now: number): LedgerEntry {
  const failed = i % 10 === 0;
  const at = now - HOUR + Math.floor((i / JOBS) * HOUR);
  const id = `bench-${String(i).padStart(6, "0")}`;
  const worker = `bench-worker-${i % 8}`;
  return {
    v: 1,
    jobId: id,
    traceId: crypto.randomUUID().replaceAll("-", ""),
    topic: i % 3 === 0 ? "job.resize" : "job.echo",
    priority: 0,
    submitter: "search-bench",
    contextPtr: "",
    adapterId: "",
    envVars: {},
    payloadBytes: 40,
    payloadPreview: `${WORDS[i % WORDS.length]} for customer ${
      i * 7919 % JOBS
    }`,
    state: failed ? "FAILED" : "COMPLETED",
    subject: "job.echo",
    maxAttempts: 1,
    attempts: [{
      attempt: 1,
      workerId: worker,
      state: failed ? "FAILED" : "COMPLETED",
      error: failed ? `disk full on volume ${i % 97}` : "",
      executionMs: 3,
      at: at + 10,
    }],
    workerId: worker,
    executionMs: 3,
    resultPtr: "",
    outputBytes: 0,
    output: "",
    error: failed ? `disk full on volume ${i % 97}` : "",
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

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

await using nats = await startNatsServer();
const nc = await connect({ servers: nats.url });
const ledger = await LedgerStore.open(jetstream(nc), {
  historyMs: 86_400_000,
  replicas: 1,
});
const now = Date.now();
const fillStart = performance.now();
for (let i = 0; i < JOBS; i += 1000) {
  await Promise.all(
    Array.from(
      { length: Math.min(1000, JOBS - i) },
      (_, k) => ledger.create(entry(i + k, now)),
    ),
  );
}
log(
  `${JOBS} jobs written in ${
    ((performance.now() - fillStart) / 1000).toFixed(1)
  } s`,
);
await nc.drain();

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
  for (let i = 0; i < 600; i++) {
    // The dashboard listens once the scheduler has started, a moment after
    // the ledger is loaded: refused until then.
    const held = await get("limit=1").then((r) => r.history, () => 0);
    if (held >= JOBS) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  log(
    `history of ${JOBS} jobs searchable ${
      ((performance.now() - loadStart) / 1000).toFixed(1)
    } s after the scheduler served (it reads the ledger before)`,
  );
  const middle = await get(`limit=1000`);
  let cursor = middle.nextCursor!;
  for (let page = 0; page < 49; page++) {
    cursor = (await get(`limit=1000&cursor=${cursor}`)).nextCursor!;
  }
  const queries: [string, string][] = [
    ["newest page, no filter", "limit=50"],
    [
      "text matching one job",
      `limit=50&text=${encodeURIComponent("customer 77777")}`,
    ],
    ["text matching none (whole history)", "limit=50&text=nowhere-at-all"],
    ["text matching 1 in 6", "limit=50&text=thumbnail"],
    ["id prefix", "limit=50&idPrefix=bench-0500"],
    ["status FAILED + topic", "limit=50&status=FAILED&topic=job.resize"],
    ["worker", "limit=50&worker=bench-worker-3"],
    [
      "error text, last 10 min",
      `limit=50&text=volume%2042&since=${now - 600_000}`,
    ],
    ["page 51 by cursor (50,000 in)", `limit=50&cursor=${cursor}`],
  ];
  console.log(
    `| search (${
      JOBS.toLocaleString("en-US")
    } jobs in the ledger) | matched | p50 ms | p95 ms | max ms |`,
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (const [name, query] of queries) {
    const times: number[] = [];
    let matched = 0;
    for (let i = 0; i < REPEAT; i++) {
      const t = performance.now();
      matched = (await get(query)).jobs.length;
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(
      `| ${name} | ${matched} | ${quantile(times, 0.5).toFixed(1)} | ${
        quantile(times, 0.95).toFixed(1)
      } | ${times[times.length - 1].toFixed(1)} |`,
    );
  }
  const m = await memory(cortex.scheduler.pid);
  console.log(
    `\nscheduler RSS ${(m.rss / MB).toFixed(0)} MB (peak ${
      (m.hwm / MB).toFixed(0)
    } MB) holding ${JOBS} jobs in its history`,
  );
} finally {
  await cortex.stop();
}
