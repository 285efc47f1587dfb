/**
 * The benchmark's load driver: a closed loop keeping `inflight` jobs
 * outstanding until `count` have come back, over one NATS connection, timing
 * every round trip. CortexOS is driven through the SDK's
 * `Cortex.submitMany` ({@linkcode runSubmitMany}), the client code users
 * and the submit CLI run; the baselines (relay, request/reply, the
 * JetStream floor) are not CortexOS and keep a raw driver with the least
 * client work per message ({@linkcode runPubSub}, {@linkcode runRequestReply}).
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import type { NatsConnection } from "@nats-io/nats-core";
import type { JetStreamClient } from "@nats-io/jetstream";
import { JobRequestSchema } from "../../src/gen/cortex/v1/cortex_pb.ts";
import { encodePacket, packet } from "../../src/bus/codec.ts";
import { RESULT, SUBMIT } from "../../src/bus/subjects.ts";
import { summarize } from "../../src/latency.ts";
import type { Cortex } from "../../src/sdk/cortex.ts";
import { fieldRange, INDEX_DIGITS, readIndex, writeIndex } from "./wire.ts";

/** How much load, and for how long at most. */
export interface Load {
  /** Jobs to complete. */
  count: number;
  /** Jobs outstanding at once. */
  inflight: number;
  /** The run stops after this long even if jobs are missing. */
  deadlineMs: number;
  /** Called after job number `done` came back, for each `done` listed here. */
  checkpoints?: number[];
  onCheckpoint?: (done: number) => void;
  /** When given, receives each job's result arrival time (epoch ms) by index. */
  arrivals?: Float64Array;
}

/** What one run measured. Latencies in ms. */
export interface RunFigures {
  jobs: number;
  completed: number;
  missing: number;
  seconds: number;
  jobs_per_s: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
}

/**
 * Job request packets, as a client sends them: `BusPacket{job_request}` to
 * topic `job.echo` with job id `<tag>-<7 digits>` and a trace id ending in
 * the same digits. Encoded once, then copied and patched per job, so the
 * driver's own cost stays the same for every system measured.
 */
export class Requests {
  readonly tag: string;
  readonly #template: Uint8Array;
  readonly #jobIdEnd: number;
  readonly #traceEnd: number;
  readonly #prefix: Uint8Array;

  constructor(tag: string, topic: string) {
    this.tag = tag;
    const zeros = "0".repeat(INDEX_DIGITS);
    const trace = crypto.randomUUID().replaceAll("-", "").slice(
      0,
      32 - INDEX_DIGITS,
    );
    this.#template = encodePacket(packet({
      case: "jobRequest",
      value: create(JobRequestSchema, { jobId: `${tag}-${zeros}`, topic }),
    }, { senderId: "bench-client", traceId: trace + zeros }));
    this.#jobIdEnd = fieldRange(this.#template, 10, 1)![1];
    this.#traceEnd = fieldRange(this.#template, 1)![1];
    this.#prefix = new TextEncoder().encode(`${tag}-`);
  }

  /** The job id of job `index`: `<tag>-<7 digits>`. */
  id(index: number): string {
    return `${this.tag}-${String(index).padStart(INDEX_DIGITS, "0")}`;
  }

  /** The packet of job `index`. */
  make(index: number): Uint8Array {
    const bytes = this.#template.slice();
    writeIndex(bytes, this.#jobIdEnd - INDEX_DIGITS, index);
    writeIndex(bytes, this.#traceEnd - INDEX_DIGITS, index);
    return bytes;
  }

  /**
   * The index of the job whose id is at `path` in `bytes` (e.g. `[11, 1]`
   * for a result's job id), or -1 when it is not one of ours.
   */
  indexAt(bytes: Uint8Array, path: number[]): number {
    const range = fieldRange(bytes, ...path);
    if (!range) return -1;
    const [start, end] = range;
    const prefix = this.#prefix;
    if (end - start !== prefix.length + INDEX_DIGITS) return -1;
    for (let i = 0; i < prefix.length; i++) {
      if (bytes[start + i] !== prefix[i]) return -1;
    }
    return readIndex(bytes, end);
  }
}

/** One run's raw measurements. */
export interface Run {
  jobs: number;
  completed: number;
  seconds: number;
  /** Round-trip times of the completed jobs, ms. */
  rtts: Float64Array;
  /** Of the completed jobs, those whose outcome the SDK found in the ledger (`Cortex.lookedUp`). */
  lookedUp?: number;
}

/**
 * The figures of one or more runs taken together, as if they were one run:
 * jobs/s over their summed durations, percentiles over all their samples.
 * (Rounds interleaved with the baselines' share the machine's noise fairly.)
 */
export function figures(runs: Run | Run[]): RunFigures {
  const all = Array.isArray(runs) ? runs : [runs];
  const jobs = all.reduce((n, r) => n + r.jobs, 0);
  const completed = all.reduce((n, r) => n + r.completed, 0);
  const seconds = all.reduce((n, r) => n + r.seconds, 0);
  const samples = new Float64Array(completed);
  let at = 0;
  for (const r of all) {
    samples.set(r.rtts, at);
    at += r.rtts.length;
  }
  const lat = summarize(samples);
  const r3 = (n: number) => Math.round(n * 1000) / 1000;
  return {
    jobs,
    completed,
    missing: jobs - completed,
    seconds: r3(seconds),
    jobs_per_s: Math.round(seconds > 0 ? completed / seconds : 0),
    p50_ms: r3(lat.p50),
    p90_ms: r3(lat.p90),
    p99_ms: r3(lat.p99),
    max_ms: r3(lat.max),
  };
}

function run(
  load: Load,
  rtts: Float64Array,
  done: number,
  seconds: number,
): Run {
  return {
    jobs: load.count,
    completed: done,
    seconds,
    rtts: rtts.slice(0, done),
  };
}

/** Where a publish/subscribe system takes jobs and where it answers. */
export interface PubSubTarget {
  submitSubject: string;
  resultSubject: string;
  /** Field path of the job id in an answer: `[11, 1]` for a JobResult. */
  idPath: number[];
  /**
   * Publish through JetStream, as the submit CLI does in durable mode: with
   * message id = job id, the PubAck awaited (a publish that fails is tried
   * again with the same id, as the CLI does; the stream drops a copy).
   * Without it, a core publish.
   */
  jetstream?: JetStreamClient;
}

/** CortexOS as the raw driver sees it: packets in on `sys.job.submit`, results (job id at 11.1) out. */
export const CORTEX_TARGET: PubSubTarget = {
  submitSubject: SUBMIT,
  resultSubject: RESULT,
  idPath: [11, 1],
};

/**
 * How long a job's publish is tried before it is left missing, in ms: as
 * the submit CLI, long enough to wait out a cluster's stream without a
 * leader (nats-server 2.9 elects one 4-9 s after its node dies).
 */
const STORE_FOR_MS = 30_000;

async function store(
  js: JetStreamClient,
  subject: string,
  bytes: Uint8Array,
  msgID: string,
): Promise<boolean> {
  const until = performance.now() + STORE_FOR_MS;
  for (let attempt = 1;; attempt++) {
    try {
      await js.publish(subject, bytes, { msgID, timeout: 5_000 });
      return true;
    } catch {
      if (performance.now() >= until) return false;
      await new Promise((r) => setTimeout(r, Math.min(1_000, 100 * attempt)));
    }
  }
}

/**
 * Runs `load` against a system that takes packets on `submitSubject` and
 * publishes an answer naming the job on `resultSubject` (CortexOS, the bare
 * relay, and through JetStream durable CortexOS and the JetStream floor).
 * Throughput is jobs completed over first send to last answer.
 */
export async function runPubSub(
  nc: NatsConnection,
  target: PubSubTarget,
  requests: Requests,
  load: Load,
): Promise<Run> {
  const { count, inflight } = load;
  const sentAt = new Float64Array(count);
  const got = new Uint8Array(count);
  const rtts = new Float64Array(count);
  const checkpoints = new Set(load.checkpoints ?? []);
  let next = 0;
  let done = 0;
  let lastAt = 0;
  let unstored = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve);

  const js = target.jetstream;
  const send = () => {
    const i = next++;
    const bytes = requests.make(i);
    sentAt[i] = performance.now();
    if (!js) return nc.publish(target.submitSubject, bytes);
    store(js, target.submitSubject, bytes, requests.id(i)).then((stored) => {
      if (stored || got[i] === 1) return;
      // Never stored: its slot goes to the next job (it counts as missing).
      got[i] = 1;
      unstored++;
      if (next < count) send();
      else if (done + unstored === count) finish();
    });
  };
  const sub = nc.subscribe(target.resultSubject, {
    callback: (_error, msg) => {
      const now = performance.now();
      const i = requests.indexAt(msg.data, target.idPath);
      if (i < 0 || i >= count || got[i] === 1 || sentAt[i] === 0) return;
      got[i] = 1;
      rtts[done++] = now - sentAt[i];
      lastAt = now;
      if (load.arrivals) load.arrivals[i] = performance.timeOrigin + now;
      if (checkpoints.has(done)) load.onCheckpoint?.(done);
      if (next < count) send();
      if (done + unstored === count) finish();
    },
  });
  await nc.flush();
  const started = performance.now();
  const deadline = setTimeout(finish, load.deadlineMs);
  for (let k = 0; k < Math.min(inflight, count); k++) send();
  await finished;
  clearTimeout(deadline);
  sub.unsubscribe();
  return run(load, rtts, done, ((lastAt || started) - started) / 1000);
}

/**
 * Runs `load` as plain NATS request/reply to `subject`: `inflight` lanes,
 * each waiting for its reply before sending the next request.
 */
export async function runRequestReply(
  nc: NatsConnection,
  subject: string,
  requests: Requests,
  load: Load,
): Promise<Run> {
  const { count, inflight } = load;
  const rtts = new Float64Array(count);
  let next = 0;
  let done = 0;
  let lastAt = 0;
  const started = performance.now();
  const stopAt = started + load.deadlineMs;
  const lane = async () => {
    while (next < count && performance.now() < stopAt) {
      const i = next++;
      const bytes = requests.make(i);
      const sentAt = performance.now();
      try {
        await nc.request(subject, bytes, { timeout: 5_000 });
      } catch {
        continue; // counted as missing
      }
      const now = performance.now();
      rtts[done++] = now - sentAt;
      lastAt = now;
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(inflight, count) }, lane),
  );
  return run(load, rtts, done, ((lastAt || started) - started) / 1000);
}

const EMPTY = new Uint8Array(0);

function* repeat(payload: Uint8Array, count: number): Generator<Uint8Array> {
  for (let i = 0; i < count; i++) yield payload;
}

/**
 * Runs `load` against CortexOS through `cortex.submitMany`: `inflight` as
 * its concurrency, empty payloads to `topic`, the job ids of `requests`
 * (so a late result of one run is never counted in the next, and the SSE
 * probes of scenario 5 know them). Each round trip is the outcome's
 * `roundTripMs` (from its send to its result's arrival); throughput is jobs
 * answered over first send to last answer, as for the baselines. A job
 * whose result never comes counts as missing; so do the jobs still out
 * when the deadline stops the run.
 */
export async function runSubmitMany(
  cortex: Cortex,
  topic: string,
  requests: Requests,
  load: Load,
): Promise<Run> {
  const { count, inflight } = load;
  const rtts = new Float64Array(count);
  const checkpoints = new Set(load.checkpoints ?? []);
  const stop = new AbortController();
  const deadline = setTimeout(() => stop.abort(), load.deadlineMs);
  let done = 0;
  let lastAt = 0;
  const lookedUpBefore = cortex.lookedUp;
  const started = performance.now();
  try {
    const outcomes = cortex.submitMany(topic, repeat(EMPTY, count), {
      concurrency: inflight,
      jobId: (i) => requests.id(i),
      timeoutMs: load.deadlineMs,
      signal: stop.signal,
      onMissing: () => {},
    });
    for await (const outcome of outcomes) {
      const now = performance.now();
      rtts[done++] = outcome.roundTripMs;
      lastAt = now;
      if (load.arrivals) {
        const i = Number(outcome.jobId.slice(-INDEX_DIGITS));
        load.arrivals[i] = performance.timeOrigin + now;
      }
      if (checkpoints.has(done)) load.onCheckpoint?.(done);
    }
  } catch (error) {
    // The deadline, or no scheduler yet (a warm-up ping): jobs missing.
    if (!stop.signal.aborted) {
      console.error(`bench: submitMany ended early: ${String(error)}`);
    }
  } finally {
    clearTimeout(deadline);
  }
  return {
    ...run(load, rtts, done, ((lastAt || started) - started) / 1000),
    lookedUp: cortex.lookedUp - lookedUpBefore,
  };
}
