/**
 * The queues at a glance: per topic, jobs in flight, what ended in each
 * 10-second bucket of the last 15 minutes, and histograms of wait (submit
 * to start) and run time, fed by the scheduler's observer calls (so the
 * same in core and durable mode) and read by the dashboard.
 *
 * Bounded whatever the job rate: 90 buckets per topic, each two fixed
 * histograms, at most {@linkcode MAX_TOPICS} topics (the least recently
 * active is forgotten first), and the jobs in flight per topic capped.
 * A job is counted in the bucket of its `finishedAt`, not of the moment it
 * is seen, so a durable scheduler that starts and reads the ledger rebuilds
 * the last 15 minutes from it.
 *
 * @module
 */
import type { QueuePanel, QueueSeries, QueuesView } from "../contract/mod.ts";
import { isFinal, JobState } from "../contract/mod.ts";
import type { JobRecord } from "./job_table.ts";
import type { WorkerView } from "./registry.ts";
import { addDuration, HISTOGRAM_BINS, quantile } from "./duration_histogram.ts";

/** One bucket of the series: 10 s, so 90 cover 15 minutes. */
export const BUCKET_MS = 10_000;
/** Buckets kept per topic. */
export const BUCKETS = 90;
/**
 * Topics tracked at once: a panel each on the page. Topics are only those
 * jobs were dispatched to (refused jobs are not counted), so this bounds
 * the memory (about 33 KiB a topic), not the fleet.
 */
export const MAX_TOPICS = 32;
/**
 * Jobs in flight remembered per topic (for pending counts and the oldest
 * pending age): the job table holds no more than its capacity anyway.
 */
export const MAX_INFLIGHT_PER_TOPIC = 100_000;
/**
 * Counted jobs remembered, so one seen final again is not counted twice:
 * more than the job table holds (10,000 by default), whose records are the
 * ones seen again.
 */
export const COUNTED_REMEMBERED = 16_384;
/** The panels' last-minute figures: the newest 6 buckets. */
const MINUTE_BUCKETS = 60_000 / BUCKET_MS;

interface Bucket {
  /** Which bucket (epoch ms / BUCKET_MS) the slot holds now; -1: none. */
  index: number;
  done: number;
  failed: number;
  wait: Uint32Array;
  run: Uint32Array;
}

interface Topic {
  slots: Bucket[];
  /** Jobs in flight: id → since (epoch ms), in the order first seen. */
  inflight: Map<string, number>;
  lastActive: number;
}

/** Options for {@linkcode QueueFigures}. */
export interface QueueFiguresOptions {
  /** The clock. Default `Date.now`. */
  clock?: () => number;
  /** Topics tracked at once. Default {@linkcode MAX_TOPICS}. */
  maxTopics?: number;
}

/** The pool a topic's workers serve: its last token (`echo` for `job.echo`). */
export function poolOf(topic: string): string {
  return topic.slice(topic.lastIndexOf(".") + 1);
}

/**
 * Rolling per-topic queue figures.
 *
 * @example
 * ```ts
 * const figures = new QueueFigures();
 * scheduler.observe({ jobChanged: (r) => figures.jobChanged(r) });
 * figures.view(scheduler.workers.list());
 * ```
 */
export class QueueFigures {
  readonly #clock: () => number;
  readonly #maxTopics: number;
  readonly #topics = new Map<string, Topic>();
  /**
   * The `finishedAt` each of the latest {@linkcode COUNTED_REMEMBERED}
   * counted jobs was counted with: a final state seen again counts once
   * (again after a retry). A ring of ids, not a WeakMap of records: a weak
   * entry per job, made while the record is young, cost the collector more
   * than all the rest of the figures.
   */
  readonly #counted = new Map<string, number>();
  readonly #countedRing: string[] = [];
  #countedNext = 0;
  /**
   * The topic of the latest change, and its name: jobs come in runs of
   * one topic, and a string compare is cheaper than a map lookup.
   */
  #lastName = "";
  #lastTopic: Topic | undefined;

  /** Empty figures. */
  constructor(options: QueueFiguresOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#maxTopics = options.maxTopics ?? MAX_TOPICS;
  }

  /** Topics tracked now. */
  get size(): number {
    return this.#topics.size;
  }

  /** Notes a change of a job; called from the scheduler's observer, so cheap. */
  jobChanged(record: JobRecord): void {
    // A refused job never reached a queue (and its topic may be anything).
    if (record.subject === "" || record.topic === "") return;
    if (!isFinal(record.state)) {
      // No clock read here (one per change adds up): a topic was active
      // when its job was dispatched.
      const since = record.dispatchedAt ?? record.submittedAt;
      const topic = this.#topic(record.topic, since);
      if (!topic || topic.inflight.size >= MAX_INFLIGHT_PER_TOPIC) return;
      if (!topic.inflight.has(record.jobId)) {
        topic.inflight.set(record.jobId, since);
      }
      return;
    }
    const now = this.#clock();
    const finishedAt = Math.min(record.finishedAt ?? now, now);
    const known = this.#known(record.topic);
    known?.inflight.delete(record.jobId);
    // One lookup answers both "counted with this end already?" and "new?".
    const counted = this.#counted.get(record.jobId);
    if (counted === finishedAt) return;
    const index = Math.floor(finishedAt / BUCKET_MS);
    if (index <= Math.floor(now / BUCKET_MS) - BUCKETS) return; // too old
    this.#remember(record.jobId, finishedAt, counted === undefined);
    const topic = known ?? this.#topic(record.topic, now);
    if (!topic) return;
    const bucket = slot(topic, index);
    bucket.done++;
    if (
      record.state === JobState.FAILED || record.state === JobState.TIMEOUT
    ) {
      bucket.failed++;
    }
    if (record.workerId === "") return; // ended by the scheduler: no run
    addDuration(bucket.run, record.executionMs);
    const wait = waitMs(record, finishedAt);
    if (wait !== undefined) addDuration(bucket.wait, wait);
  }

  /**
   * The panels and each topic's last 15 minutes, given the workers the
   * registry knows.
   */
  view(workers: readonly WorkerView[]): QueuesView {
    const now = this.#clock();
    const newest = Math.floor(now / BUCKET_MS);
    const running = new Map<string, number>();
    const online = new Map<string, number>();
    for (const w of workers) {
      if (w.state !== "online") continue;
      online.set(w.pool, (online.get(w.pool) ?? 0) + 1);
      running.set(w.pool, (running.get(w.pool) ?? 0) + w.activeJobs);
    }
    const panels: QueuePanel[] = [];
    const series: Record<string, QueueSeries> = {};
    for (const [name, topic] of [...this.#topics].sort(byName)) {
      const pool = poolOf(name);
      const recent = buckets(topic, newest, MINUTE_BUCKETS);
      let done = 0, failed = 0;
      for (const b of recent) {
        done += b.done;
        failed += b.failed;
      }
      const inflight = topic.inflight.size;
      const busy = Math.min(inflight, running.get(pool) ?? 0);
      panels.push({
        topic: name,
        pool,
        pending: inflight - busy,
        running: busy,
        doneLastMinute: done,
        failedLastMinute: failed,
        failureRate: done === 0 ? null : failed / done,
        oldestPendingMs: oldestPending(topic, busy, now),
        waitMs: quantiles(recent.map((b) => b.wait)),
        runMs: quantiles(recent.map((b) => b.run)),
        workersOnline: online.get(pool) ?? 0,
      });
      series[name] = seriesOf(topic, newest);
    }
    return {
      bucketMs: BUCKET_MS,
      newestBucketAt: newest * BUCKET_MS,
      panels,
      series,
    };
  }

  /**
   * Notes that `jobId` was counted as finished at `finishedAt`; `fresh`
   * when it was not among the remembered ones.
   */
  #remember(jobId: string, finishedAt: number, fresh: boolean): void {
    if (fresh) {
      const ring = this.#countedRing;
      if (ring.length < COUNTED_REMEMBERED) {
        ring.push(jobId);
      } else {
        this.#counted.delete(ring[this.#countedNext]);
        ring[this.#countedNext] = jobId;
        this.#countedNext = (this.#countedNext + 1) % COUNTED_REMEMBERED;
      }
    }
    this.#counted.set(jobId, finishedAt);
  }

  /** The topic's figures if tracked, without making them. */
  #known(name: string): Topic | undefined {
    if (name === this.#lastName) return this.#lastTopic;
    const topic = this.#topics.get(name);
    if (topic) {
      this.#lastName = name;
      this.#lastTopic = topic;
    }
    return topic;
  }

  /** The topic's figures, made (forgetting the least active) when new. */
  #topic(name: string, now: number): Topic | undefined {
    let topic = this.#known(name);
    if (!topic) {
      if (this.#topics.size >= this.#maxTopics) {
        let idlest: [string, Topic] | undefined;
        for (const entry of this.#topics) {
          if (!idlest || entry[1].lastActive < idlest[1].lastActive) {
            idlest = entry;
          }
        }
        if (idlest) this.#topics.delete(idlest[0]);
      }
      topic = { slots: [], inflight: new Map(), lastActive: now };
      this.#topics.set(name, topic);
      // The remembered topic may be the one just forgotten.
      this.#lastName = name;
      this.#lastTopic = topic;
    }
    // Dispatch times may come out of order: activity only moves forward.
    if (now > topic.lastActive) topic.lastActive = now;
    return topic;
  }
}

function byName(a: [string, Topic], b: [string, Topic]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** The slot of bucket `index`, emptied first when it held an older bucket. */
function slot(topic: Topic, index: number): Bucket {
  const at = index % BUCKETS;
  let bucket = topic.slots[at];
  if (!bucket) {
    bucket = {
      index,
      done: 0,
      failed: 0,
      wait: new Uint32Array(HISTOGRAM_BINS),
      run: new Uint32Array(HISTOGRAM_BINS),
    };
    topic.slots[at] = bucket;
  } else if (bucket.index !== index) {
    if (bucket.index > index) return bucket; // a late one in a reused slot: counted with the newer
    bucket.index = index;
    bucket.done = 0;
    bucket.failed = 0;
    bucket.wait.fill(0);
    bucket.run.fill(0);
  }
  return bucket;
}

/** The buckets among the `count` newest (up to `newest`) that hold data. */
function buckets(topic: Topic, newest: number, count: number): Bucket[] {
  const out: Bucket[] = [];
  for (let i = newest - count + 1; i <= newest; i++) {
    const b = topic.slots[((i % BUCKETS) + BUCKETS) % BUCKETS];
    if (b && b.index === i) out.push(b);
  }
  return out;
}

function seriesOf(topic: Topic, newest: number): QueueSeries {
  const s: QueueSeries = { done: [], failed: [], waitP50: [], waitP95: [] };
  for (let i = newest - BUCKETS + 1; i <= newest; i++) {
    const b = topic.slots[((i % BUCKETS) + BUCKETS) % BUCKETS];
    const held = b !== undefined && b.index === i;
    s.done.push(held ? b.done : 0);
    s.failed.push(held ? b.failed : 0);
    s.waitP50.push(held ? quantile([b.wait], 0.5) : null);
    s.waitP95.push(held ? quantile([b.wait], 0.95) : null);
  }
  return s;
}

function quantiles(parts: Uint32Array[]): QueuePanel["waitMs"] {
  const p50 = quantile(parts, 0.5);
  const p95 = quantile(parts, 0.95);
  return p50 === null || p95 === null ? null : { p50, p95 };
}

/**
 * Age of the oldest job not yet started: jobs leave in about the order they
 * came, so the `running` oldest in flight are taken to be the ones running.
 */
function oldestPending(
  topic: Topic,
  running: number,
  now: number,
): number | null {
  let skip = running;
  for (const since of topic.inflight.values()) {
    if (skip-- > 0) continue;
    return Math.max(0, now - since);
  }
  return null;
}

/**
 * From submission (or the latest retry by hand) to the start of the first
 * run after it, estimated as an attempt's end minus its run time; in core
 * mode, which keeps no attempts, the final result's.
 */
function waitMs(record: JobRecord, finishedAt: number): number | undefined {
  const retries = record.retriedByHand;
  const from = retries && retries.length > 0
    ? retries[retries.length - 1].at
    : record.submittedAt;
  // A loop, not `find` with a closure: this runs for every job.
  let start = finishedAt - record.executionMs;
  for (const a of record.attempts) {
    if (a.at >= from) {
      start = a.at - a.executionMs;
      break;
    }
  }
  return start >= from ? start - from : 0;
}
