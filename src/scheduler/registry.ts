/**
 * The worker registry: the latest heartbeat of every worker and whether it
 * is online, stale or offline, judged by how many beats it has missed.
 *
 * @module
 */
import type { Heartbeat } from "../bus/messages.ts";
import type { WorkerState } from "../contract/mod.ts";
import { Probation } from "./probation.ts";
import { Ring } from "./ring.ts";
import type {
  PoolOnline,
  RegistryTick,
  Sighting,
  WorkerView,
} from "./worker_view.ts";

export type { PoolOnline, RegistryTick, Sighting, WorkerState, WorkerView };

/** Options for {@linkcode WorkerRegistry}; all durations in ms. */
export interface RegistryOptions {
  /** The heartbeat interval workers use. Default 5,000. */
  heartbeatMs?: number;
  /** Missed beats before a worker is stale. Default 2. */
  staleAfterBeats?: number;
  /** Missed beats before a worker is offline. Default 3. */
  offlineAfterBeats?: number;
  /** How long an offline worker is remembered. Default 5 minutes. */
  forgetAfterMs?: number;
  /**
   * Most workers held, so a peer inventing worker ids cannot grow the
   * scheduler without bound. Default 10,000.
   */
  capacity?: number;
  /**
   * Most new ids held on probation while the registry is full (see
   * {@linkcode WorkerRegistry}). Default: `capacity`.
   */
  probation?: number;
  /** The clock, for tests. Default `Date.now`. */
  clock?: () => number;
}

interface Entry {
  heartbeat: Heartbeat;
  firstSeen: number;
  lastSeen: number;
  left: boolean;
  /** It has beaten once only, so it is the first to make room when full. */
  once: boolean;
  /** The state last reported, by {@linkcode WorkerRegistry.observe} or {@linkcode WorkerRegistry.tick}. */
  reported: WorkerState;
  /**
   * The session the worker id is bound to ("" for none: a peer that sends
   * none, like the Go MVP's workers): set by the beat that registered it.
   */
  session: string;
  /** It was asked to drain (`sys.drain`) and not to resume since. */
  draining?: boolean;
}

/**
 * Latest heartbeat per worker, with liveness derived from the time since it.
 *
 * Bounded against a peer inventing worker ids, at O(1) per heartbeat. While
 * it holds fewer than `capacity` workers, a new id is recorded at once.
 * When it is full nothing is scanned: a new id's first beat puts it on
 * probation (a bounded first-in first-out set), and its next beat, if it is
 * still there, takes the place of the oldest worker that has beaten only
 * once. So ids that beat once can displace only each other: a real worker,
 * which beats again within its interval, gets in on its second beat as long
 * as fewer than `probation` new ids arrive in between. Workers that have
 * beaten twice are never displaced; offline ones are forgotten at
 * {@linkcode WorkerRegistry.tick}, once a second.
 *
 * A worker id is bound to the `session` of the beat that registered it (a
 * random token the worker draws at start). While the worker is not offline
 * a beat with another session (or none) is refused: it cannot change the
 * worker's pool, region, type or capabilities, keep it alive, or take it
 * offline with `leaving`. Once the worker has left, gone offline or been
 * forgotten, the next beat registers the id afresh with its own session,
 * so a worker restarted with the same id gets in. A worker registered
 * without a session (the Go MVP's) is not bound: any beat updates it.
 *
 * @example
 * ```ts
 * const registry = new WorkerRegistry({ heartbeatMs: 5_000 });
 * registry.observe(heartbeat)?.was; // undefined: a new worker
 * registry.list()[0].state; // "online"
 * ```
 */
export class WorkerRegistry {
  readonly #entries = new Map<string, Entry>();
  /** Worker ids by pool, so a pool is looked at without a scan of the registry. */
  readonly #pools = new Map<string, Set<string>>();
  readonly #staleMs: number;
  readonly #offlineMs: number;
  readonly #forgetMs: number;
  readonly #capacity: number;
  readonly #clock: () => number;
  /** Ids forgotten to make room for a new worker, reported at the next tick. */
  #forgottenSinceTick: string[] = [];
  /**
   * Ids recorded on their first beat, oldest first: the ones to displace
   * when full. Entries that beat again or went are skipped when reached.
   */
  #once = new Ring<string>();
  /** New ids that beat while the registry was full, oldest first. */
  readonly #probation: Probation;

  /** An empty registry. */
  constructor(options: RegistryOptions = {}) {
    const beat = options.heartbeatMs ?? 5_000;
    this.#staleMs = beat * (options.staleAfterBeats ?? 2);
    this.#offlineMs = beat * (options.offlineAfterBeats ?? 3);
    this.#forgetMs = options.forgetAfterMs ?? 5 * 60_000;
    this.#capacity = options.capacity ?? 10_000;
    this.#probation = new Probation(options.probation ?? this.#capacity);
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * Records a heartbeat; one marked `leaving` takes the worker offline at once.
   * Returns the worker and its state before (marked `impostor`, recording
   * nothing, for a beat with another session than the one a worker not
   * offline is bound to), or `undefined`, recording nothing, for
   * a new worker while the registry is full: on its first beat (it goes on
   * probation), and on a later one while no worker that has beaten only
   * once is left to make room. Constant time (amortised).
   */
  observe(heartbeat: Heartbeat): Sighting | undefined {
    const now = this.#clock();
    const id = heartbeat.workerId;
    const known = this.#entries.get(id);
    const live = known !== undefined && this.#state(known, now) !== "offline";
    if (live && known.session !== "" && heartbeat.session !== known.session) {
      const worker = this.#view(known, now);
      return { worker, was: worker.state, impostor: true };
    }
    // A new id is on its first beat, unless it comes off probation.
    let once = known === undefined;
    if (!known && this.#entries.size >= this.#capacity) {
      if (!this.#probation.delete(id) || !this.#displaceOnce()) {
        this.#probation.add(id);
        return undefined;
      }
      once = false;
    }
    const was = known && this.#state(known, now);
    const entry: Entry = {
      heartbeat,
      firstSeen: known?.firstSeen ?? now,
      lastSeen: now,
      left: heartbeat.leaving,
      once,
      reported: "online",
      // Kept while the worker is live; a beat after it left or went
      // offline registers it afresh.
      session: live ? known.session : heartbeat.session,
      // A worker that restarted (offline between) takes jobs again.
      draining: live && known.draining,
    };
    const worker = this.#view(entry, now);
    entry.reported = worker.state;
    this.#entries.set(id, entry);
    if (once) this.#once.push(id);
    if (known && known.heartbeat.pool !== heartbeat.pool) {
      this.#leavePool(known.heartbeat.pool, id);
    }
    let pool = this.#pools.get(heartbeat.pool);
    if (!pool) this.#pools.set(heartbeat.pool, pool = new Set());
    pool.add(id);
    return { worker, was };
  }

  /**
   * Whether a heartbeat from `workerId` is refused before it is even
   * decoded: the id is new, the registry full, and the id not on probation,
   * so this beat would only put it there, as this call does. Otherwise
   * `false`: the beat is for {@linkcode WorkerRegistry.observe} to judge.
   * A few map look-ups; nothing allocated but the id's place on probation.
   */
  refuses(workerId: string): boolean {
    if (this.#entries.has(workerId)) return false;
    if (this.#entries.size < this.#capacity) return false;
    if (this.#probation.has(workerId)) return false;
    this.#probation.add(workerId);
    return true;
  }

  /**
   * Forgets the oldest worker that has beaten only once, to make room;
   * false when there is none. Each id is taken off the queue once, so the
   * ids skipped here cost nothing more than their push.
   */
  #displaceOnce(): boolean {
    for (
      let id = this.#once.shift();
      id !== undefined;
      id = this.#once.shift()
    ) {
      const entry = this.#entries.get(id);
      if (entry?.once) {
        this.#entries.delete(id);
        this.#leavePool(entry.heartbeat.pool, id);
        this.#forgottenSinceTick.push(id);
        return true;
      }
    }
    return false;
  }

  /**
   * Marks a worker asked to drain (or to resume): shown `draining` while
   * online. Returns the worker when that changed its state, else
   * `undefined` (unknown, or no change).
   */
  setDraining(workerId: string, draining: boolean): WorkerView | undefined {
    const entry = this.#entries.get(workerId);
    if (!entry || (entry.draining ?? false) === draining) return undefined;
    entry.draining = draining;
    const worker = this.#view(entry, this.#clock());
    entry.reported = worker.state;
    return worker;
  }

  /** Every known worker, by pool then id. */
  list(): WorkerView[] {
    const now = this.#clock();
    return [...this.#entries.values()]
      .map((entry) => this.#view(entry, now))
      .sort((a, b) =>
        a.pool.localeCompare(b.pool) || a.workerId.localeCompare(b.workerId)
      );
  }

  /** One worker, or `undefined`. */
  get(workerId: string): WorkerView | undefined {
    const entry = this.#entries.get(workerId);
    return entry && this.#view(entry, this.#clock());
  }

  /** How many workers are in each state. */
  counts(): Record<WorkerState, number> {
    const counts = { online: 0, draining: 0, stale: 0, offline: 0 };
    const now = this.#clock();
    for (const entry of this.#entries.values()) {
      counts[this.#state(entry, now)]++;
    }
    return counts;
  }

  /**
   * How many workers of `pool` are online, durable and core: what durable
   * mode routes a job by. Costs the pool's size, not the registry's.
   */
  onlineInPool(pool: string): PoolOnline {
    const online = { durable: 0, core: 0 };
    const ids = this.#pools.get(pool);
    if (!ids) return online;
    const now = this.#clock();
    for (const id of ids) {
      const entry = this.#entries.get(id);
      // A draining worker takes nothing new: not counted for routing.
      if (!entry || this.#state(entry, now) !== "online") continue;
      if (entry.heartbeat.durable) online.durable++;
      else online.core++;
    }
    return online;
  }

  /** Workers held now, offline ones included until forgotten. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Judges every worker's liveness as of now: reports the workers whose
   * state changed since it was last reported, and forgets those offline for
   * longer than `forgetAfterMs`. The scheduler calls it once a second.
   */
  tick(): RegistryTick {
    const now = this.#clock();
    const forgotten = this.#forgottenSinceTick.concat(this.#forget(now));
    this.#forgottenSinceTick = [];
    // Ids that beat again or went are left in the queue; drop them here,
    // where every worker is visited anyway, so it holds at most the
    // registry's own workers plus one tick's new ones.
    if (this.#once.size > this.#entries.size) {
      const once = new Ring<string>();
      for (
        let id = this.#once.shift();
        id !== undefined;
        id = this.#once.shift()
      ) {
        if (this.#entries.get(id)?.once) once.push(id);
      }
      this.#once = once;
    }
    const changed: WorkerView[] = [];
    for (const entry of this.#entries.values()) {
      const state = this.#state(entry, now);
      if (state === entry.reported) continue;
      entry.reported = state;
      changed.push(this.#view(entry, now));
    }
    return { changed, forgotten };
  }

  /** Forgets workers offline for longer than `forgetAfterMs`; returns their ids. */
  #forget(now: number): string[] {
    const forgotten: string[] = [];
    for (const [id, entry] of this.#entries) {
      const offlineSince = entry.left
        ? entry.lastSeen
        : entry.lastSeen + this.#offlineMs;
      if (now - offlineSince > this.#forgetMs) {
        this.#entries.delete(id);
        this.#leavePool(entry.heartbeat.pool, id);
        forgotten.push(id);
      }
    }
    return forgotten;
  }

  #leavePool(pool: string, workerId: string): void {
    const ids = this.#pools.get(pool);
    ids?.delete(workerId);
    if (ids?.size === 0) this.#pools.delete(pool);
  }

  #state(entry: Entry, now: number): WorkerState {
    if (entry.left) return "offline";
    const silent = now - entry.lastSeen;
    if (silent > this.#offlineMs) return "offline";
    if (silent > this.#staleMs) return "stale";
    return entry.draining ? "draining" : "online";
  }

  #view(entry: Entry, now: number): WorkerView {
    const hb = entry.heartbeat;
    return {
      workerId: hb.workerId,
      pool: hb.pool,
      region: hb.region,
      type: hb.type,
      capabilities: hb.capabilities,
      activeJobs: hb.activeJobs,
      maxParallelJobs: hb.maxParallelJobs,
      cpuLoad: hb.cpuLoad,
      gpuUtilization: hb.gpuUtilization,
      state: this.#state(entry, now),
      firstSeen: entry.firstSeen,
      lastSeen: entry.lastSeen,
      left: entry.left,
    };
  }
}
