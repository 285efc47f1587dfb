/**
 * The dashboard's event stream (`GET /api/events`): one snapshot, then
 * coalesced deltas, as Server-Sent Events shared by every client.
 *
 * The scheduler tells the hub of every change synchronously, in its hot
 * path, so the hub only notes what is dirty there (a Set insert). A timer
 * turns the dirty sets into one delta event every `flushMs`, encodes it once
 * and hands the same bytes to every client: the cost per job does not grow
 * with the number of clients, and a client gets a handful of frames per
 * second whatever the job rate.
 *
 * Each client has a bounded queue ({@linkcode ClientStream}): one that does
 * not read is resynced with a snapshot instead of holding memory or the
 * scheduler back. Each event has an id, and the last `history` events are
 * kept, so a client that reconnects with `Last-Event-ID` gets only what it
 * missed. The bytes of each frame come from `sse.ts`. Bulk actions'
 * progress goes out the same way, as `bulk` events on the same timer.
 *
 * @module
 */
import type {
  BulkEvent,
  DeltaEvent,
  QueuesView,
  SnapshotEvent,
} from "../contract/mod.ts";
import type { BulkFeed } from "../scheduler/bulk.ts";
import { QueueFigures } from "../scheduler/queue_figures.ts";
import type {
  JobRecord,
  SchedulerCounters,
  SchedulerService,
  WorkerView,
} from "../scheduler/service.ts";
import { ClientStream } from "./client_stream.ts";
import { SSE_HELLO, SSE_KEEP_ALIVE, sseFrame, sseResponse } from "./sse.ts";
import { ThroughputMeter } from "./throughput.ts";
import { countersView, jobSummary, workerSummary } from "./views.ts";

/** Options for {@linkcode EventHub}; durations in ms. */
export interface EventHubOptions {
  /**
   * How often changes are sent. Default 100 (ten frames a second): a job's
   * end shows within about 100 ms, and the frames are encoded once for
   * every client.
   */
  flushMs?: number;
  /** How often an idle stream gets a keep-alive comment. Default 15,000. */
  keepAliveMs?: number;
  /** Events kept for `Last-Event-ID` resumption. Default 300 (30 s at 100 ms). */
  history?: number;
  /** Frames queued for one client before it is resynced. Default 320 (32 s at 100 ms). */
  clientQueue?: number;
  /**
   * Bytes of frames kept for resumption, and queued for one client before
   * it is resynced; each default 8 MiB. A delta listing thousands of changed
   * workers is megabytes, so frame counts alone would let a fleet that
   * keeps changing hold hundreds of MB.
   */
  maxBytes?: number;
  /** Most changed jobs in one delta; the rest are counted as omitted. Default 40: ten deltas a second refill the 200-row feed twice, as many rows a second as four deltas of 100 did. */
  maxJobsPerEvent?: number;
  /** Jobs in a snapshot, newest first. Default 200. */
  snapshotJobs?: number;
  /** The clock. Default `Date.now`. */
  clock?: () => number;
  /**
   * The queue figures, already fed by the scheduler (made before it
   * started, to see the whole ledger). Default: the hub makes and feeds its own.
   */
  figures?: QueueFigures;
}

/** How the hub is doing, for metrics and tests. */
export interface EventHubStats {
  /** Clients connected now. */
  clients: number;
  /** Events published since start (snapshots not counted). */
  events: number;
  /** Times a client's queue overflowed and it was sent a snapshot instead. */
  resyncs: number;
  /** Changed jobs left out of deltas to bound their size. */
  jobsOmitted: number;
}

function finishedTotal(c: SchedulerCounters): number {
  return c.completed + c.failed + c.denied + c.timeout + c.cancelled;
}

function counterSum(c: SchedulerCounters): number {
  let sum = 0;
  for (const value of Object.values(c)) sum += value;
  return sum;
}

/**
 * Streams the scheduler's state to dashboard clients.
 *
 * @example
 * ```ts
 * const hub = new EventHub(scheduler);
 * app.get("/api/events", (c) =>
 *   hub.connect({ lastEventId: c.req.header("last-event-id") }));
 * // on shutdown
 * hub.close();
 * ```
 */
export class EventHub {
  readonly #scheduler: SchedulerService;
  readonly #clock: () => number;
  readonly #history: { seq: number; frame: Uint8Array }[] = [];
  readonly #historySize: number;
  #historyBytes = 0;
  readonly #maxBytes: number;
  readonly #clientQueue: number;
  readonly #maxJobs: number;
  readonly #snapshotJobs: number;
  readonly #clients = new Set<ClientStream>();
  /** Ids are `<epoch>.<seq>`: a new process (new epoch) never resumes an old stream. */
  readonly #epoch = crypto.randomUUID().slice(0, 8);
  #seq = 0;
  #dirtyJobs = new Set<JobRecord>();
  #dirtyWorkers = new Map<string, WorkerView>();
  #forgotten = new Set<string>();
  readonly #bulkFeeds: { feed: BulkFeed; unobserve: () => void }[] = [];
  /** Bulk actions changed since the last event, and where to read them. */
  #dirtyBulk = new Map<string, BulkFeed>();
  #counterSum = -1;
  readonly #throughput = new ThroughputMeter();
  readonly #figures: QueueFigures;
  /** The second the queues were last made in, and what they said. */
  #queueSecond = -1;
  #queueFigures = "";
  #snapshot?: { seq: number; second: number; frame: Uint8Array };
  #resyncs = 0;
  #jobsOmitted = 0;
  readonly #unobserve: () => void;
  readonly #flushTimer: ReturnType<typeof setInterval>;
  readonly #keepAliveTimer: ReturnType<typeof setInterval>;

  /** Starts observing `scheduler` and the flush and keep-alive timers; {@linkcode EventHub.close} stops them. */
  constructor(scheduler: SchedulerService, options: EventHubOptions = {}) {
    this.#scheduler = scheduler;
    this.#clock = options.clock ?? Date.now;
    this.#historySize = options.history ?? 300;
    this.#clientQueue = options.clientQueue ?? 320;
    this.#maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.#maxJobs = options.maxJobsPerEvent ?? 40;
    this.#snapshotJobs = options.snapshotJobs ?? 200;
    const ownFigures = options.figures === undefined;
    this.#figures = options.figures ?? new QueueFigures({ clock: this.#clock });
    // These run in the scheduler's hot path: note the change and return.
    this.#unobserve = scheduler.observe({
      jobChanged: (record) => {
        // A job already dirty keeps its place (no delete and re-add per
        // change: this runs for every job). The set is in order of each job's
        // first change in this window, so when a delta must be cut short the
        // newest jobs are kept, each with its state at flush time.
        this.#dirtyJobs.add(record);
        if (ownFigures) this.#figures.jobChanged(record);
      },
      workerChanged: (worker) => {
        this.#dirtyWorkers.set(worker.workerId, worker);
      },
      workersForgotten: (ids) => {
        for (const id of ids) {
          this.#dirtyWorkers.delete(id);
          this.#forgotten.add(id);
        }
      },
    });
    this.#throughput.sample(finishedTotal(scheduler.counters), this.#clock());
    this.#flushTimer = setInterval(() => this.flush(), options.flushMs ?? 100);
    this.#keepAliveTimer = setInterval(
      () => this.#keepAlive(),
      options.keepAliveMs ?? 15_000,
    );
  }

  /** The id of the latest event, as sent in `id:` lines. */
  get lastEventId(): string {
    return `${this.#epoch}.${this.#seq}`;
  }

  /** How the hub is doing. */
  stats(): EventHubStats {
    return {
      clients: this.#clients.size,
      events: this.#seq,
      resyncs: this.#resyncs,
      jobsOmitted: this.#jobsOmitted,
    };
  }

  /**
   * Opens a stream for one client. With `lastEventId` (the `Last-Event-ID`
   * header of a reconnecting EventSource) it resumes: the events missed are
   * replayed from history, or a snapshot is sent when they are no longer all
   * there. Without it, the stream starts with a snapshot.
   *
   * The stream ends when the client goes away (the server cancels the
   * body, or `done` settles), or when the hub is closed.
   */
  connect(
    options: { lastEventId?: string | null; done?: Promise<unknown> } = {},
  ): Response {
    const client = new ClientStream({
      limit: this.#clientQueue,
      limitBytes: this.#maxBytes,
      first: [SSE_HELLO, ...this.#catchUp(options.lastEventId)],
      snapshot: () => this.snapshotFrame(),
      resynced: () => this.#resyncs++,
      closed: (c) => this.#clients.delete(c),
    });
    this.#clients.add(client);
    options.done?.finally(() => client.close());
    return sseResponse(client.stream);
  }

  /**
   * Publishes one delta with everything that changed since the last one, if
   * anything did (and a `bulk` event, if a bulk action's progress changed).
   * Runs every `flushMs`; tests call it to step the clock.
   */
  flush(): void {
    const now = this.#clock();
    this.#flushBulk(now);
    const counters = this.#scheduler.counters;
    const secondClosed = this.#throughput.sample(finishedTotal(counters), now);
    const sum = counterSum(counters);
    const queues = this.#queuesChanged(now);
    if (
      this.#dirtyJobs.size === 0 && this.#dirtyWorkers.size === 0 &&
      this.#forgotten.size === 0 && !secondClosed && sum === this.#counterSum &&
      queues === undefined
    ) {
      return;
    }
    this.#counterSum = sum;
    const dirty = this.#dirtyJobs;
    this.#dirtyJobs = new Set();
    const skip = Math.max(0, dirty.size - this.#maxJobs);
    this.#jobsOmitted += skip;
    const jobs = [];
    let i = 0;
    for (const record of dirty) {
      if (i++ >= skip) jobs.push(jobSummary(record));
    }
    const event: DeltaEvent = {
      type: "delta",
      serverTime: now,
      jobs,
      jobsOmitted: skip,
      workers: [...this.#dirtyWorkers.values()].map(workerSummary),
      forgotten: [...this.#forgotten],
      counters: countersView(counters),
      throughput: this.#throughput.value(),
      ...(queues ? { queues } : {}),
    };
    this.#dirtyWorkers = new Map();
    this.#forgotten = new Set();
    this.#publish("delta", event);
  }

  /** The snapshot as of now, encoded once per event id and shared. */
  snapshotFrame(): Uint8Array {
    // Shared within an event and a second: the queue figures (ages, the
    // last minute) move with the clock even when no event goes out.
    const second = Math.floor(this.#clock() / 1000);
    if (this.#snapshot?.seq === this.#seq && this.#snapshot.second === second) {
      return this.#snapshot.frame;
    }
    const scheduler = this.#scheduler;
    const event: SnapshotEvent = {
      type: "snapshot",
      serverTime: this.#clock(),
      workers: scheduler.workers.list().map(workerSummary),
      jobs: scheduler.jobs.recent(this.#snapshotJobs).map(jobSummary),
      counters: countersView(scheduler.counters),
      throughput: this.#throughput.value(),
      queues: this.queues(),
      bulk: this.#bulkFeeds.flatMap(({ feed }) => feed.list())
        .filter((p) => p.state === "running"),
    };
    const frame = this.#frame(this.#seq, "snapshot", event);
    this.#snapshot = { seq: this.#seq, second, frame };
    return frame;
  }

  /** The queues at a glance now, with their series (`GET /api/queues`). */
  queues(): QueuesView {
    return this.#figures.view(this.#scheduler.workers.list());
  }

  /**
   * The queues for a delta, at most once a second and only when a figure
   * changed (a panel, or the series when a bucket closed).
   */
  #queuesChanged(now: number): QueuesView | undefined {
    const second = Math.floor(now / 1000);
    // Nobody to tell: a client that connects gets a snapshot with them.
    if (this.#clients.size === 0 || second === this.#queueSecond) {
      return undefined;
    }
    this.#queueSecond = second;
    const view = this.queues();
    const json = JSON.stringify(view);
    // Only newestBucketAt moves on an idle scheduler: not worth a frame.
    const figures = json.slice(json.indexOf(',"panels"'));
    if (figures === this.#queueFigures) return undefined;
    this.#queueFigures = figures;
    return view;
  }

  /**
   * Streams the progress of `feed`'s bulk actions: a `bulk` event on the
   * flush timer whenever one changed, and the running ones in snapshots.
   */
  followBulk(feed: BulkFeed): void {
    // In the action's loop, once a step: note the id and return.
    const unobserve = feed.observe((id) => this.#dirtyBulk.set(id, feed));
    this.#bulkFeeds.push({ feed, unobserve });
  }

  /** One `bulk` event with every action that changed since the last, if any did. */
  #flushBulk(now: number): void {
    if (this.#dirtyBulk.size === 0) return;
    const dirty = this.#dirtyBulk;
    this.#dirtyBulk = new Map();
    const actions = [];
    for (const [id, feed] of dirty) {
      const progress = feed.get(id);
      if (progress) actions.push(progress);
    }
    if (actions.length === 0) return;
    this.#publish("bulk", { type: "bulk", serverTime: now, actions });
  }

  /** Ends every stream and stops listening to the scheduler. */
  close(): void {
    this.#unobserve();
    for (const { unobserve } of this.#bulkFeeds) unobserve();
    clearInterval(this.#flushTimer);
    clearInterval(this.#keepAliveTimer);
    for (const client of [...this.#clients]) client.close();
  }

  /** The frames a (re)connecting client needs first. */
  #catchUp(lastEventId: string | null | undefined): Uint8Array[] {
    const seen = this.#parseId(lastEventId);
    if (seen === undefined) return [this.snapshotFrame()];
    if (seen === this.#seq) return [];
    const oldest = this.#history[0]?.seq ?? this.#seq + 1;
    const missed = this.#seq - seen;
    if (seen + 1 < oldest || missed > this.#clientQueue) {
      return [this.snapshotFrame()];
    }
    return this.#history.filter((e) => e.seq > seen).map((e) => e.frame);
  }

  /** The sequence number of one of our ids, or `undefined` if it is not ours. */
  #parseId(id: string | null | undefined): number | undefined {
    if (!id) return undefined;
    const dot = id.indexOf(".");
    if (dot < 0 || id.slice(0, dot) !== this.#epoch) return undefined;
    const seq = Number(id.slice(dot + 1));
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > this.#seq) {
      return undefined;
    }
    return seq;
  }

  #publish(type: string, event: DeltaEvent | BulkEvent): void {
    const seq = ++this.#seq;
    const frame = this.#frame(seq, type, event);
    this.#history.push({ seq, frame });
    this.#historyBytes += frame.byteLength;
    while (
      this.#history.length > this.#historySize ||
      (this.#historyBytes > this.#maxBytes && this.#history.length > 1)
    ) {
      this.#historyBytes -= this.#history.shift()!.frame.byteLength;
    }
    for (const client of this.#clients) client.send(frame);
  }

  #frame(seq: number, type: string, data: unknown): Uint8Array {
    // JSON.stringify escapes newlines, so the data fits on one `data:` line.
    return sseFrame({
      id: `${this.#epoch}.${seq}`,
      event: type,
      data: JSON.stringify(data),
    });
  }

  #keepAlive(): void {
    for (const client of this.#clients) client.send(SSE_KEEP_ALIVE);
  }
}
