/**
 * The backlog of durable mode's work queues, seen rather than guessed:
 * for each topic's consumer of `CORTEX_WORK` (`work_<topic>`), the jobs not
 * yet acknowledged (JetStream's `num_pending` + `num_ack_pending`), those
 * delivered more than once (`num_redelivered`), and the time the oldest of
 * them was stored (the first message of its subject: the stream has
 * work-queue retention, so every message still in it is unacknowledged).
 *
 * Asking JetStream costs a request per consumer (and one more per topic
 * with a backlog), so {@linkcode BacklogSampler} asks in the background
 * every few seconds and `/metrics` reads the last answer: a scrape never
 * waits on JetStream, and many scrapes cost nothing more.
 *
 * @module
 */
import type { JetStreamManager } from "../bus/durable/layout.ts";
import { WORK_PREFIX, WORK_STREAM } from "../bus/durable/layout.ts";
import type { Logger } from "../log.ts";
import type { PoolBacklog } from "./service.ts";

/** One topic's work queue, as JetStream told it. */
export interface TopicBacklog {
  /** The topic (`job.echo`). */
  topic: string;
  /** Jobs not yet acknowledged: waiting, or held by a worker. */
  pending: number;
  /** Of them, those delivered more than once. */
  redelivered: number;
  /** Epoch ms the oldest of them was stored; `undefined` when none. */
  oldestAt?: number;
}

/** Where the backlog comes from: JetStream, or a fake in tests. */
export interface BacklogSource {
  /** Every topic's work queue now. */
  sample(): Promise<TopicBacklog[]>;
}

/** The most work consumers sampled: far beyond the topics a deployment serves. */
export const MAX_SAMPLED_CONSUMERS = 500;

/**
 * The pool of a topic: its last token, as the scheduler's routing and the
 * workers' heartbeats name it.
 */
export function poolOf(topic: string): string {
  return topic.slice(topic.lastIndexOf(".") + 1);
}

/**
 * Sums topics' backlogs by pool (the oldest is the oldest of any topic),
 * sorted by pool name.
 *
 * @example
 * ```ts
 * poolBacklogs([{ topic: "job.echo", pending: 2, redelivered: 0, oldestAt: 1_000 }], 3_000);
 * // [{ pool: "echo", pending: 2, oldestPendingSeconds: 2, redelivered: 0 }]
 * ```
 */
export function poolBacklogs(
  topics: readonly TopicBacklog[],
  now: number,
): PoolBacklog[] {
  const pools = new Map<string, PoolBacklog>();
  for (const t of topics) {
    const name = poolOf(t.topic);
    const pool = pools.get(name) ??
      { pool: name, pending: 0, oldestPendingSeconds: 0, redelivered: 0 };
    pool.pending += t.pending;
    pool.redelivered += t.redelivered;
    if (t.pending > 0 && t.oldestAt !== undefined) {
      pool.oldestPendingSeconds = Math.max(
        pool.oldestPendingSeconds,
        Math.max(0, now - t.oldestAt) / 1000,
      );
    }
    pools.set(name, pool);
  }
  return [...pools.values()].sort((a, b) => a.pool.localeCompare(b.pool));
}

/**
 * The {@linkcode BacklogSource} of a JetStream server: lists the consumers
 * of `CORTEX_WORK` and, for each topic with a backlog, reads its first
 * message's time.
 *
 * @example
 * ```ts
 * const source = new JetStreamBacklog(await js.jetstreamManager());
 * console.log(await source.sample());
 * ```
 */
export class JetStreamBacklog implements BacklogSource {
  readonly #jsm: JetStreamManager;

  /** A source over a JetStream manager. */
  constructor(jsm: JetStreamManager) {
    this.#jsm = jsm;
  }

  /** Every work consumer's backlog now; `[]` while the stream is missing. */
  async sample(): Promise<TopicBacklog[]> {
    const out: TopicBacklog[] = [];
    for await (const info of this.#jsm.consumers.list(WORK_STREAM)) {
      if (out.length >= MAX_SAMPLED_CONSUMERS) break;
      const filter = info.config.filter_subject ?? "";
      if (!filter.startsWith(WORK_PREFIX)) continue;
      const pending = info.num_pending + info.num_ack_pending;
      let oldestAt: number | undefined;
      if (pending > 0) {
        // `next_by_subj` (nats-server 2.9+): the first message of the
        // subject, which in a work-queue stream is the oldest unacked one.
        // nats.js types only the direct-get form of it; the request is the same.
        const first = await this.#jsm.streams.getMessage(
          WORK_STREAM,
          { seq: 0, next_by_subj: filter } as unknown as { seq: number },
        ).catch(() => null);
        if (first) oldestAt = first.time.getTime();
      }
      out.push({
        topic: filter.slice(WORK_PREFIX.length),
        pending,
        redelivered: info.num_redelivered,
        oldestAt,
      });
    }
    return out;
  }
}

/** Options of {@linkcode BacklogSampler}. */
export interface BacklogSamplerOptions {
  /** Where the backlog comes from. */
  source: BacklogSource;
  /** How often to ask, in ms. Default 5,000. */
  intervalMs?: number;
  /** Where a failed sample is logged (once until one succeeds again). */
  log: Logger;
  /** The clock. Default `Date.now`. */
  clock?: () => number;
}

/**
 * Samples a {@linkcode BacklogSource} in the background, one sample at a
 * time, and keeps the latest.
 *
 * @example
 * ```ts
 * const sampler = new BacklogSampler({ source, log });
 * sampler.start();
 * sampler.pools(); // the latest sample, by pool
 * ```
 */
export class BacklogSampler {
  readonly #o: BacklogSamplerOptions;
  readonly #clock: () => number;
  #topics: TopicBacklog[] = [];
  #sampledAt?: number;
  #timer?: ReturnType<typeof setTimeout>;
  #stopped = false;
  #failing = false;

  /** A sampler; it asks nothing until {@linkcode BacklogSampler.start}. */
  constructor(options: BacklogSamplerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** Epoch ms of the latest sample; `undefined` before the first. */
  get sampledAt(): number | undefined {
    return this.#sampledAt;
  }

  /** The latest sample by pool, ages as of now. */
  pools(): PoolBacklog[] {
    return poolBacklogs(this.#topics, this.#clock());
  }

  /** Takes one sample now (the first), then one every interval after the last ended. */
  start(): void {
    this.#stopped = false;
    this.#next(0);
  }

  /** Stops sampling. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Takes one sample now; resolves when it is kept (or failed and was logged). */
  async sampleNow(): Promise<void> {
    try {
      this.#topics = await this.#o.source.sample();
      this.#sampledAt = this.#clock();
      this.#failing = false;
    } catch (error) {
      if (!this.#failing) {
        this.#o.log.warn(
          "cannot sample the work queues' backlog (kept the last sample): {error}",
          { error: error instanceof Error ? error.message : String(error) },
        );
      }
      this.#failing = true;
    }
  }

  #next(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(async () => {
      await this.sampleNow();
      this.#next(this.#o.intervalMs ?? 5_000);
    }, delay);
  }
}
