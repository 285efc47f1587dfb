/**
 * The fleet: what the scheduler does with heartbeats and with the passing
 * of time for workers. It records each heartbeat in the
 * {@linkcode WorkerRegistry}, says in the log when a worker joins, comes
 * back, leaves, goes stale or offline (at a bounded rate: see
 * {@linkcode FleetLog}), and tells observers; the engine hands it the
 * heartbeats and calls {@linkcode Fleet.tick} once a second.
 *
 * A heartbeat from an id the registry has no room for is refused before it
 * is decoded ({@linkcode Fleet.screen}): reading its worker id, a few map
 * look-ups and a counter; no log line (one warning when the registry
 * fills), no observer call.
 *
 * @module
 */
import type { Heartbeat } from "../bus/messages.ts";
import { BoundedWarnings } from "../bounded_warnings.ts";
import type { Logger } from "../log.ts";
import { FleetLog } from "./fleet_log.ts";
import type { WorkerRegistry } from "./registry.ts";
import type { SchedulerCounters, SchedulerObserver } from "./service.ts";
import { heartbeatWorkerId } from "../bus/wire/packet_reader.ts";
import { clipped, HEARTBEAT_LIMITS, heartbeatProblem } from "./validation.ts";

/**
 * Keeps the registry current and reports its changes.
 *
 * @example
 * ```ts
 * const fleet = new Fleet(registry, counters, observers, log);
 * fleet.heartbeat(heartbeat, "sys.heartbeat.echo");
 * fleet.tick();
 * ```
 */
export class Fleet {
  readonly #registry: WorkerRegistry;
  readonly #counters: SchedulerCounters;
  readonly #observers: ReadonlySet<SchedulerObserver>;
  readonly #log: Logger;
  /** Bad heartbeats logged five per 10 s, then summarised: a flood cannot flood the log. */
  readonly #badBeats: BoundedWarnings;
  /** Joins, departures and liveness changes, at most 50 lines per 10 s. */
  readonly #lines: FleetLog;
  /** Durable workers joining a core-mode scheduler, five per 10 s. */
  readonly #modeMismatch: BoundedWarnings;
  /** Whether the last heartbeat of a new worker found the registry full: warn once, not per beat. */
  #registryFull = false;
  /** This scheduler dispatches on core NATS only: a durable worker gets nothing from it. */
  readonly #coreOnly: boolean;

  /**
   * A fleet over `registry`, counting into `counters`, telling `observers`.
   *
   * @param registry where heartbeats are recorded
   * @param counters the scheduler's counters (`badHeartbeats` is counted here)
   * @param observers told of every worker change
   * @param log where joins, departures and liveness changes are said
   * @param coreOnly the scheduler runs in core mode: a worker whose
   * heartbeat says it is durable is warned about when it joins, since no
   * job reaches it (a mode mismatch: `CORTEX_DURABILITY` differs)
   */
  constructor(
    registry: WorkerRegistry,
    counters: SchedulerCounters,
    observers: ReadonlySet<SchedulerObserver>,
    log: Logger,
    coreOnly = false,
  ) {
    this.#coreOnly = coreOnly;
    this.#registry = registry;
    this.#counters = counters;
    this.#observers = observers;
    this.#log = log;
    this.#badBeats = new BoundedWarnings(log, "bad heartbeats");
    this.#lines = new FleetLog(log);
    this.#modeMismatch = new BoundedWarnings(
      log,
      "durable workers joining a core-mode scheduler",
    );
  }

  /**
   * Looks at a heartbeat's bytes before they are decoded (the bus's
   * `screen`): one from a worker id the registry has no room for is
   * refused here, at the cost of reading that id (see
   * {@linkcode WorkerRegistry.refuses}); returns whether the packet is to be
   * decoded and handed to {@linkcode Fleet.heartbeat}.
   */
  screen(raw: Uint8Array): boolean {
    const id = heartbeatWorkerId(raw, HEARTBEAT_LIMITS.fieldBytes);
    if (id === undefined || !this.#registry.refuses(id)) return true;
    this.#refused();
    return false;
  }

  /** Records one heartbeat that arrived on `subject`. */
  heartbeat(heartbeat: Heartbeat, subject: string): void {
    const problem = heartbeatProblem(heartbeat);
    if (problem) {
      this.#counters.badHeartbeats++;
      this.#badHeartbeat(subject, heartbeat.workerId, problem);
      return;
    }
    const sighting = this.#registry.observe(heartbeat);
    if (!sighting) {
      this.#refused();
      return;
    }
    if (sighting.impostor) {
      this.#counters.badHeartbeats++;
      this.#badHeartbeat(
        subject,
        heartbeat.workerId,
        heartbeat.leaving
          ? "it says the worker is leaving, but with another session than the live worker's: not believed"
          : "its session is not the one the live worker is bound to: not believed",
      );
      return;
    }
    const { worker, was } = sighting;
    if (was !== worker.state) {
      this.#lines.change(
        worker.left ? "left" : was === undefined ? "joined" : "back",
        worker.workerId,
        worker.pool,
      );
      if (this.#coreOnly && heartbeat.durable && !worker.left) {
        this.#modeMismatch.warn(
          "worker {worker_id} ({pool}) takes jobs from JetStream, but this scheduler runs in core mode: no job reaches it. Run every process with the same CORTEX_DURABILITY (auto decides by the server, so leave it unset everywhere, or set none everywhere)",
          { worker_id: worker.workerId, pool: worker.pool },
        );
      }
    }
    for (const o of this.#observers) o.workerChanged?.(worker);
  }

  /** Counts a heartbeat the registry had no room for; warns once. */
  #refused(): void {
    this.#counters.badHeartbeats++;
    if (this.#registryFull) return;
    this.#registryFull = true;
    this.#log.warn(
      "the worker registry is full ({size} workers, CORTEX_REGISTRY_SIZE): a new worker gets in on its second heartbeat in place of one that beat only once, or once offline ones are forgotten",
      { size: this.#registry.size },
    );
  }

  /**
   * Logs a refused heartbeat, at a bounded rate, with its worker id clipped.
   */
  #badHeartbeat(subject: string, workerId: string, problem: string): void {
    this.#badBeats.warn(
      "ignored a heartbeat on {subject} (worker_id {worker_id}): {problem}",
      {
        subject: clipped(subject, 256),
        worker_id: clipped(workerId, 64),
        problem,
      },
    );
  }

  /** Re-judges every worker's liveness and forgets the long offline. */
  tick(): void {
    this.#lines.tick();
    const { changed, forgotten } = this.#registry.tick();
    if (forgotten.length > 0) {
      this.#registryFull = false;
      for (const o of this.#observers) o.workersForgotten?.(forgotten);
    }
    for (const worker of changed) {
      this.#lines.change(worker.state, worker.workerId, worker.pool);
      for (const o of this.#observers) o.workerChanged?.(worker);
    }
  }
}
