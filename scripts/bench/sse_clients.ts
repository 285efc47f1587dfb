/**
 * The dashboard audience of benchmark scenario 5: `count` clients of the
 * scheduler's SSE stream (`GET /api/events`), each reading every event.
 * `probes` of them also parse the events and note, per job whose id starts
 * with `prefix`, when its COMPLETED state first arrived (epoch ms, from
 * `performance.timeOrigin + performance.now()`, comparable across processes
 * on one machine).
 *
 *   sse_clients.ts <base-url> <count> <probes> <prefix>
 *
 * The probes also note, for every event, when it arrived and the scheduler's
 * `completed` counter it carried, and add up the deltas' `jobsOmitted`: the
 * stream carries at most 40 changed jobs per delta (the newest), so the
 * rows are a sample at high rates, while the counters account for every job.
 *
 * Prints `ready` once every client has its first event (the snapshot); when
 * standard input closes, prints one JSON line
 * `{"events": N, "bytes": B, "arrivals": [{job_id: epoch_ms, …}, …],
 * "counts": [[[epoch_ms, completed], …], …], "omitted": [n, …]}` (one entry
 * per probe) and exits. Ends by itself after ten minutes.
 *
 * @module
 */
import { JobState } from "../../src/contract/mod.ts";

const MAX_LIFE_MS = 10 * 60_000;

const [base, countArg, probesArg, prefix] = Deno.args;
const count = Number(countArg);
const probes = Math.min(Number(probesArg), count);
if (!base || !(count > 0) || !(probes >= 0) || !prefix) {
  console.error("usage: sse_clients.ts <base-url> <count> <probes> <prefix>");
  Deno.exit(2);
}

const stop = new AbortController();
const now = () => performance.timeOrigin + performance.now();
let events = 0;
let bytes = 0;
let firstEvents = 0;
const arrivals: Map<string, number>[] = [];
/** Per probe: [arrival, counters.completed] of every event that had them. */
const counts: [number, number][][] = [];
/** Per probe: the deltas' jobsOmitted, added up. */
const omitted: number[] = [];

/** Notes every object in `value` that names one of our jobs as COMPLETED. */
function collect(value: unknown, seen: Map<string, number>, at: number): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, seen, at);
    return;
  }
  if (value === null || typeof value !== "object") return;
  const record = value as Record<string, unknown>;
  const id = record.jobId ?? record.job_id;
  const state = record.state ?? record.status;
  if (
    typeof id === "string" && id.startsWith(prefix) &&
    state === JobState.COMPLETED
  ) {
    if (!seen.has(id)) seen.set(id, at);
    return;
  }
  for (const key in record) collect(record[key], seen, at);
}

async function client(index: number): Promise<void> {
  const probe = index < probes;
  const seen = new Map<string, number>();
  const counted: [number, number][] = [];
  const slot = omitted.length;
  if (probe) {
    arrivals.push(seen);
    counts.push(counted);
    omitted.push(0);
  }
  const response = await fetch(`${base}/api/events`, {
    signal: stop.signal,
    headers: { accept: "text/event-stream" },
  });
  if (!response.ok || !response.body) {
    throw new Error(`GET ${base}/api/events: HTTP ${response.status}`);
  }
  let first = true;
  let rest = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body) {
      bytes += chunk.length;
      if (!probe) {
        // Count events without parsing them: a frame ends with a blank line
        // (a frame split across chunks at that point is not counted).
        let frames = 0;
        for (let i = 1; i < chunk.length; i++) {
          if (chunk[i] === 10 && chunk[i - 1] === 10) frames++;
        }
        events += frames;
        if (first && frames > 0) {
          first = false;
          firstEvents++;
        }
        continue;
      }
      const at = now();
      const frames = (rest + decoder.decode(chunk, { stream: true })).split(
        "\n\n",
      );
      rest = frames.pop()!;
      for (const frame of frames) {
        events++;
        if (first) {
          first = false;
          firstEvents++;
        }
        const data = frame.split("\n").filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart()).join("\n");
        if (data === "") continue;
        try {
          const event = JSON.parse(data);
          const completed = event?.counters?.completed;
          if (typeof completed === "number") counted.push([at, completed]);
          if (typeof event?.jobsOmitted === "number") {
            omitted[slot] += event.jobsOmitted;
          }
          collect(event, seen, at);
        } catch {
          // not JSON: nothing to note
        }
      }
    }
  } catch (error) {
    if (!stop.signal.aborted) throw error;
  }
}

const clients = Array.from({ length: count }, (_, i) => client(i));
const failed = Promise.race(clients.map((c) => c.catch((e) => e)));
const life = setTimeout(() => Deno.exit(3), MAX_LIFE_MS);
const readyBy = Date.now() + 15_000;
while (firstEvents < count) {
  const error = await Promise.race([
    failed,
    new Promise((r) => setTimeout(() => r(undefined), 20)),
  ]);
  if (error instanceof Error) {
    console.error(error.message);
    Deno.exit(1);
  }
  if (Date.now() > readyBy) {
    console.error(`only ${firstEvents} of ${count} clients got a first event`);
    Deno.exit(1);
  }
}
console.log("ready");

for await (const _ of Deno.stdin.readable) { /* until EOF */ }
stop.abort();
// A probe far behind on a loaded machine may take long to unwind: what it
// has seen so far is what it reports, within the parent's 10 s stop grace.
await Promise.race([
  Promise.allSettled(clients),
  new Promise((r) => setTimeout(r, 2_000)),
]);
clearTimeout(life);
console.log(JSON.stringify({
  events,
  bytes,
  arrivals: arrivals.map((seen) => Object.fromEntries(seen)),
  counts,
  omitted,
}));
Deno.exit(0);
