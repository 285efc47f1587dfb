/**
 * One run of jobs against each system the benchmark compares (CortexOS, the
 * three-hop relay, plain request/reply), and the shared steps of every
 * scenario: warm-up pings, interleaved rounds, the progress log.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { JetStreamClient } from "@nats-io/jetstream";
import { ECHO_TOPIC } from "../../src/bus/subjects.ts";
import {
  FLOOR_IN,
  FLOOR_OUT,
  RELAY_IN,
  RELAY_OUT,
  REPLY_SUBJECT,
} from "./cluster.ts";
import {
  CORTEX_TARGET,
  figures,
  type Load,
  Requests,
  type Run,
  type RunFigures,
  runPubSub,
  runRequestReply,
  runSubmitMany,
} from "./load.ts";
import { CpuWindow } from "./proc.ts";
import { Cortex as Client } from "../../src/sdk/cortex.ts";
import { logger } from "../../src/log.ts";

/** Writes a progress line to standard error. */
export const log = (line: string) => console.error(`bench: ${line}`);

function deadline(jobs: number): number {
  return 20_000 + jobs * 2;
}

// A new job id tag for every run, so a late answer from one run is never
// counted in the next.
let runNumber = 0;
/** A fresh set of job ids for one run. */
export function requests(): Requests {
  return new Requests(
    `b${Date.now().toString(36)}${(runNumber++).toString(36)}`,
    ECHO_TOPIC,
  );
}

/** The same for the relay baseline. */
const RELAY_TARGET = {
  submitSubject: RELAY_IN,
  resultSubject: RELAY_OUT,
  idPath: [10, 1],
};

/** A load of `count` jobs, `inflight` at a time, with a deadline to match. */
export function loadOf(
  count: number,
  inflight: number,
  extra: Partial<Load> = {},
): Load {
  return { count, inflight, deadlineMs: deadline(count), ...extra };
}

// One SDK client per connection and mode: each holds one subscription to
// every result, so a new one per run would decode each result once more.
const clients = new WeakMap<NatsConnection, Map<string, Client>>();
function clientOf(nc: NatsConnection, mode: "core" | "jetstream"): Client {
  let byMode = clients.get(nc);
  if (!byMode) clients.set(nc, byMode = new Map());
  let client = byMode.get(mode);
  if (!client) {
    client = new Client(nc, mode, logger("bench"), "bench-client");
    byMode.set(mode, client);
  }
  return client;
}

/**
 * One run against CortexOS through the SDK's `submitMany`, with the job
 * ids of `reqs` (default: fresh ones).
 */
export const cortexRun = (
  nc: NatsConnection,
  load: Load,
  reqs: Requests = requests(),
) => runSubmitMany(clientOf(nc, "core"), ECHO_TOPIC, reqs, load);

// Each system's raw runs (for interleaved rounds), and their figures.
/** One run against CortexOS (through the SDK). */
export const rawCortex = (nc: NatsConnection, load: Load) =>
  cortexRun(nc, load);
/**
 * One run against CortexOS through the raw driver the bench used before the
 * SDK (pre-encoded packets published on `sys.job.submit`, each result's job
 * id read off its bytes): what the SDK's `submitMany` is measured against.
 */
export const rawCortexDriver = (nc: NatsConnection, load: Load) =>
  runPubSub(nc, CORTEX_TARGET, requests(), load);
/** One run against the relay. */
export const rawRelay = (nc: NatsConnection, load: Load) =>
  runPubSub(nc, RELAY_TARGET, requests(), load);
/** One run against durable CortexOS through the SDK (stored by JetStream, as the submit CLI does). */
export const rawDurable = (nc: NatsConnection, load: Load) =>
  runSubmitMany(clientOf(nc, "jetstream"), ECHO_TOPIC, requests(), load);
/** One run against the JetStream floor (stored hop, pull consumer, core reply). */
export const rawFloor = (
  nc: NatsConnection,
  js: JetStreamClient,
  load: Load,
) =>
  runPubSub(
    nc,
    {
      submitSubject: FLOOR_IN,
      resultSubject: FLOOR_OUT,
      idPath: [10, 1],
      jetstream: js,
    },
    requests(),
    load,
  );
/** One run against request/reply. */
export const rawReply = (nc: NatsConnection, load: Load) =>
  runRequestReply(nc, REPLY_SUBJECT, requests(), load);
/** One run against CortexOS, as figures. */
export const runCortex = async (nc: NatsConnection, load: Load) =>
  figures(await rawCortex(nc, load));
/** One run against the relay, as figures. */
export const runRelay = async (nc: NatsConnection, load: Load) =>
  figures(await rawRelay(nc, load));
/** One run against request/reply, as figures. */
export const runReply = async (nc: NatsConnection, load: Load) =>
  figures(await rawReply(nc, load));

/** Waits until a job makes it all the way round (subscriptions are live). */
export async function ping(
  name: string,
  run: (load: Load) => Promise<RunFigures>,
): Promise<void> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const r = await run({ count: 1, inflight: 1, deadlineMs: 500 });
    if (r.completed === 1) return;
  }
  throw new Error(`${name}: no job came back within 15 s`);
}

/** Logs one run's figures. */
export function describe(name: string, r: RunFigures): void {
  log(
    `${name}: ${r.jobs_per_s} jobs/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms${
      r.missing ? `, ${r.missing} MISSING` : ""
    }`,
  );
}

/** Runs one load against one system. */
export type Runner = (load: Load) => Promise<Run>;

/**
 * The order of the systems (their indices) in round `round` (from 0): the
 * list as given, reversed every other round, and with each pair of
 * neighbours (0 and 1, 2 and 3, …) swapped in every other pair of rounds.
 * Over four rounds each system runs as often before a neighbour as after
 * it, and each of two neighbours runs first after the others once: a run
 * right after another system's ran 5 to 30 % slower than the one after it
 * (scenario 1, whose CortexOS runs, SDK and raw driver, are neighbours).
 */
export function roundOrder(round: number, count: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  if (Math.floor(round / 2) % 2 === 1) {
    for (let i = 0; i + 1 < count; i += 2) {
      [order[i], order[i + 1]] = [order[i + 1], order[i]];
    }
  }
  return round % 2 === 1 ? order.reverse() : order;
}

/**
 * Runs each system `rounds` times, interleaved ({@linkcode roundOrder}), so
 * slow drifts in the machine's load hit every system alike and no system
 * always runs first after the others. Returns each system's runs and the
 * CPU its processes used.
 */
export async function interleaved(
  rounds: number,
  systems: { name: string; run: Runner; pids?: Record<string, number> }[],
  load: () => Load,
  natsPid: number,
): Promise<{ runs: Run[]; cores: Record<string, number> }[]> {
  const out = systems.map(() => ({
    runs: [] as Run[],
    cores: {} as Record<string, number>,
  }));
  for (let round = 0; round < rounds; round++) {
    for (const k of roundOrder(round, systems.length)) {
      const system = systems[k];
      const window = new CpuWindow({
        client: "self",
        nats: natsPid,
        ...system.pids,
      });
      await window.start();
      const r = await system.run(load());
      const cores = await window.stop();
      out[k].runs.push(r);
      for (const [name, c] of Object.entries(cores)) {
        out[k].cores[name] = (out[k].cores[name] ?? 0) + c / rounds;
      }
      describe(`${system.name} round ${round + 1}`, figures(r));
    }
  }
  return out;
}

/** µs of CPU per job of each process, from its cores and the run's jobs/s. */
export function usPerJob(
  cores: Record<string, number>,
  jobsPerS: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(cores).map((
      [k, v],
    ) => [k, jobsPerS > 0 ? Math.round(v / jobsPerS * 1e6) : 0]),
  );
}

/** Each process's cores, to two decimals. */
export function roundCores(c: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(c).map(([k, v]) => [k, Math.round(v * 100) / 100]),
  );
}

/** `a / b` to three decimals; 0 when `b` is 0. */
export function ratio(a: number, b: number): number {
  return b > 0 ? Math.round((a / b) * 1000) / 1000 : 0;
}
