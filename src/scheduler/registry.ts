/**
 * The worker registry: the latest heartbeat of every worker and whether it
 * is online, stale or offline, judged by how many beats it has missed.
 *
 * @module
 */
import type { Heartbeat } from "../gen/cortex/v1/cortex_pb.ts";
import type { WorkerState } from "../contract/mod.ts";

export type { WorkerState };

/** What the registry knows of one worker. */
export interface WorkerView {
  workerId: string;
  pool: string;
  region: string;
  type: string;
  capabilities: string[];
  activeJobs: number;
  maxParallelJobs: number;
  cpuLoad: number;
  gpuUtilization: number;
  state: WorkerState;
  /** Epoch ms of the first and latest heartbeat. */
  firstSeen: number;
  lastSeen: number;
  /** The worker said it was shutting down. */
  left: boolean;
}

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
  /** The clock, for tests. Default `Date.now`. */
  clock?: () => number;
}

interface Entry {
  heartbeat: Heartbeat;
  firstSeen: number;
  lastSeen: number;
  left: boolean;
}

/**
 * Latest heartbeat per worker, with liveness derived from the time since it.
 *
 * @example
 * ```ts
 * const registry = new WorkerRegistry({ heartbeatMs: 5_000 });
 * registry.observe(heartbeat);
 * registry.list()[0].state; // "online"
 * ```
 */
export class WorkerRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #staleMs: number;
  readonly #offlineMs: number;
  readonly #forgetMs: number;
  readonly #capacity: number;
  readonly #clock: () => number;

  constructor(options: RegistryOptions = {}) {
    const beat = options.heartbeatMs ?? 5_000;
    this.#staleMs = beat * (options.staleAfterBeats ?? 2);
    this.#offlineMs = beat * (options.offlineAfterBeats ?? 3);
    this.#forgetMs = options.forgetAfterMs ?? 5 * 60_000;
    this.#capacity = options.capacity ?? 10_000;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * Records a heartbeat; one marked `leaving` takes the worker offline at once.
   * Returns `undefined`, recording nothing, for a new worker while the
   * registry holds `capacity` workers none of which can be forgotten yet.
   */
  observe(heartbeat: Heartbeat): WorkerView | undefined {
    const now = this.#clock();
    const known = this.#entries.get(heartbeat.workerId);
    if (!known && this.#entries.size >= this.#capacity) {
      this.sweep();
      if (this.#entries.size >= this.#capacity) return undefined;
    }
    const entry: Entry = {
      heartbeat,
      firstSeen: known?.firstSeen ?? now,
      lastSeen: now,
      left: heartbeat.leaving,
    };
    this.#entries.set(heartbeat.workerId, entry);
    return this.#view(entry, now);
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
    const counts = { online: 0, stale: 0, offline: 0 };
    const now = this.#clock();
    for (const entry of this.#entries.values()) {
      counts[this.#state(entry, now)]++;
    }
    return counts;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Forgets workers offline for longer than `forgetAfterMs`; returns the ids
   * forgotten.
   */
  sweep(): string[] {
    const now = this.#clock();
    const forgotten: string[] = [];
    for (const [id, entry] of this.#entries) {
      const offlineSince = entry.left
        ? entry.lastSeen
        : entry.lastSeen + this.#offlineMs;
      if (now - offlineSince > this.#forgetMs) {
        this.#entries.delete(id);
        forgotten.push(id);
      }
    }
    return forgotten;
  }

  #state(entry: Entry, now: number): WorkerState {
    if (entry.left) return "offline";
    const silent = now - entry.lastSeen;
    if (silent > this.#offlineMs) return "offline";
    if (silent > this.#staleMs) return "stale";
    return "online";
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
