/**
 * What a `DurableIntake` (intake.ts) is made of and what it answers: its
 * parts and settings, where a job goes, and what it made of a core result.
 *
 * @module
 */
import type { JetStreamClient } from "../bus/durable/client_types.ts";
import type { Bus } from "../bus/bus.ts";
import type { StoredPublisher } from "../bus/durable/stored_publish.ts";
import type { Logger } from "../log.ts";
import type { LedgerStore } from "./ledger_store.ts";
import type { DurableCounters } from "./ledger_view.ts";
import type { SafetyChecker } from "./safety.ts";
import type { SchedulerCounters } from "./service.ts";
import type { Strategy } from "./strategy.ts";
import type { ValidationLimits } from "./validation.ts";

/** What `DurableIntake.coreResult` made of a core result. */
export type CoreResultVerdict =
  | "recorded"
  | "unknown_job"
  | "already_final"
  | "echo"
  | "not_core_dispatched";

/** Where a job goes: the durable work stream, or a core-NATS subject. */
export type Route = { durable: true } | { durable: false };

/** The parts and settings of a {@linkcode DurableIntake}. */
export interface IntakeParts {
  /** Core NATS: results out, the core route out. */
  bus: Bus;
  /** JetStream: dispatches into `CORTEX_WORK`. */
  js: JetStreamClient;
  /** Dispatches into `CORTEX_WORK` without nats.js's per-request cost, when given. */
  stored?: StoredPublisher;
  /** The job ledger. */
  ledger: LedgerStore;
  /** Decides which topics may run. */
  safety: SafetyChecker;
  /** Picks each job's subject. */
  strategy: Strategy;
  /** Limits every job must keep. */
  limits: ValidationLimits;
  /** How a topic's jobs go now, by the workers of its pool online. */
  route: (topic: string) => Route;
  /** Attempts of a job that does not say (`CORTEX_MAX_ATTEMPTS`). */
  maxAttempts: number;
  /** A job not final this long after admission is TIMEOUT, in ms. */
  timeoutMs: number;
  /** This replica's sender id. */
  senderId: string;
  /** The per-replica counters (`lateResults`). */
  counters: SchedulerCounters;
  /** The per-replica durable counters (`duplicateDeliveries`). */
  durable: DurableCounters;
  /** Where it says what happened. */
  log: Logger;
  /** The clock, for tests. Default `Date.now`. */
  clock?: () => number;
}
