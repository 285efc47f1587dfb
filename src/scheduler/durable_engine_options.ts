/**
 * What a `DurableScheduler` (durable_engine.ts) is built from, apart from the engine
 * so that file keeps to its work.
 *
 * @module
 */
import type { JetStreamClient } from "../bus/durable/client_types.ts";
import type { StoredPublisher } from "../bus/durable/stored_publish.ts";
import type { Bus } from "../bus/bus.ts";
import type { Logger } from "../log.ts";
import type { BacklogSource } from "./backlog.ts";
import type { JobTable } from "./job_table.ts";
import type { LedgerStore } from "./ledger_store.ts";
import type { WorkerRegistry } from "./registry.ts";
import type { SafetyChecker } from "./safety.ts";
import type { Strategy } from "./strategy.ts";
import type { ValidationLimits } from "./validation.ts";

/** The parts and settings a `DurableScheduler` (durable_engine.ts) is built from. */
export interface DurableSchedulerOptions {
  /** Core NATS: heartbeats and results in, results out. */
  bus: Bus;
  /** JetStream, on the same connection. */
  js: JetStreamClient;
  /**
   * Dispatches and ledger writes without nats.js's per-request cost, on
   * the same connection (the ledger store takes it at open). Optional:
   * `js.publish` otherwise.
   */
  stored?: StoredPublisher;
  /** The job ledger. */
  ledger: LedgerStore;
  /** Decides which topics may run. */
  safety: SafetyChecker;
  /** Picks each job's subject. */
  strategy: Strategy;
  /** The workers' latest heartbeats. */
  registry: WorkerRegistry;
  /** The view of the ledger's recent jobs. */
  jobs: JobTable;
  /** Limits every job must keep. */
  limits: ValidationLimits;
  /** Attempts of a job that does not say (`CORTEX_MAX_ATTEMPTS`). */
  maxAttempts: number;
  /** This scheduler's sender id on the bus. */
  senderId: string;
  /** Where it says what happened. */
  log: Logger;
  /** How often deadlines and worker liveness are checked, in ms. Default 1,000. */
  tickMs?: number;
  /** Where the work queues' backlog is read. Default: this JetStream's consumers. */
  backlog?: BacklogSource;
  /** How often the backlog is sampled, in ms. Default 5,000. */
  backlogIntervalMs?: number;
}
