/**
 * What the `WorkerRegistry` says of workers: each worker as it
 * knows it, and what a heartbeat or the passing of time did.
 *
 * @module
 */
import type { WorkerState } from "../contract/mod.ts";

/** What the registry knows of one worker. */
export interface WorkerView {
  /** Unique per worker process. */
  workerId: string;
  /** The pool (job family) it serves, e.g. `echo`. */
  pool: string;
  /** Where it runs, as it says. */
  region: string;
  /** Its kind, as it says. */
  type: string;
  /** What it can do, as it says. */
  capabilities: string[];
  /** Jobs it is running now. */
  activeJobs: number;
  /** Jobs it runs at once at most. */
  maxParallelJobs: number;
  /** Its process's CPU load, 0–1 per core. */
  cpuLoad: number;
  /** Its GPU utilisation, 0–1, when it has one. */
  gpuUtilization: number;
  /** Its liveness now. */
  state: WorkerState;
  /** Epoch ms of its first heartbeat. */
  firstSeen: number;
  /** Epoch ms of its latest heartbeat. */
  lastSeen: number;
  /** The worker said it was shutting down. */
  left: boolean;
}

/** What one heartbeat did: the worker as it is now, and its state before. */
export interface Sighting {
  /** The worker, with this heartbeat recorded. */
  worker: WorkerView;
  /** Its state before this heartbeat; `undefined` for a worker new to the registry. */
  was: WorkerState | undefined;
  /**
   * The beat was refused: its session is not the one the live worker is
   * bound to (see `WorkerRegistry`). Nothing was recorded;
   * `worker` is as it was.
   */
  impostor?: true;
}

/** What the passing of time did to the registry, since the last tick. */
export interface RegistryTick {
  /** Workers whose state changed without a heartbeat (went stale or offline). */
  changed: WorkerView[];
  /** Workers forgotten, offline for longer than `forgetAfterMs`. */
  forgotten: string[];
}

/** How many workers of a pool are online, by kind (see `WorkerRegistry.onlineInPool`). */
export interface PoolOnline {
  /** Online workers that take jobs from JetStream (`Heartbeat.durable`). */
  durable: number;
  /** Online workers that take jobs on core NATS (the Go MVP's, core mode's). */
  core: number;
}
