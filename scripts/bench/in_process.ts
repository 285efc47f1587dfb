/**
 * What the in-process cost scripts (engine_cost.ts, worker_cost.ts) share:
 * V8's `gc`, which they need to read a job's allocation between full
 * collections, and a bus that goes nowhere but hands each subscription's
 * handler back to the script that drives it.
 *
 * @module
 */
import process from "node:process";
import type { Bus, PacketHandler } from "../../src/bus/bus.ts";
import type { BusPacket } from "../../src/bus/messages.ts";

/** V8's `gc()`; exits 2 saying how to run when `--expose-gc` was not given. */
export function exposedGc(): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) return gc;
  console.error("run with --v8-flags=--expose-gc (see the module's doc)");
  Deno.exit(2);
}

/** A bus that delivers nothing: `handlers` holds what each subject's subscriber would be called with. */
export function nowhereBus(
  onPublish: (message: BusPacket) => void = () => {},
): { bus: Bus; handlers: Map<string, PacketHandler> } {
  const handlers = new Map<string, PacketHandler>();
  const bus: Bus = {
    publish(_subject, message) {
      onPublish(message);
    },
    publishRaw() {},
    subscribe(subject, handler) {
      handlers.set(subject, handler);
      return { unsubscribe() {} };
    },
    flush: () => Promise.resolve(),
    connected: true,
    undecodable: 0,
  };
  return { bus, handlers };
}

/**
 * Heap growth and CPU over measured chunks of jobs, each after a full
 * collection (so the collector's own time is left out).
 */
export class Tally {
  readonly #gc = exposedGc();
  #bytes = 0;
  #cpuUs = 0;
  #jobs = 0;

  /** Runs one chunk of `jobs` jobs; counted unless it only warms up. */
  chunk(jobs: number, counted: boolean, run: () => void): void {
    this.#gc();
    const heapBefore = Deno.memoryUsage().heapUsed;
    const cpuBefore = process.cpuUsage();
    run();
    const cpu = process.cpuUsage(cpuBefore);
    if (!counted) return;
    this.#bytes += Deno.memoryUsage().heapUsed - heapBefore;
    this.#cpuUs += cpu.user + cpu.system;
    this.#jobs += jobs;
  }

  /** Bytes allocated and CPU µs a counted job, and how many were counted. */
  perJob(): { bytes: number; cpuUs: number; jobs: number } {
    const jobs = Math.max(1, this.#jobs);
    return {
      bytes: Math.round(this.#bytes / jobs),
      cpuUs: this.#cpuUs / jobs,
      jobs: this.#jobs,
    };
  }
}
