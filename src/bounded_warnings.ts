/**
 * Warnings a peer can provoke at will (undecodable packets, bad heartbeats,
 * a long outage) logged at most a few per window, then counted and
 * summarised once, so nothing outside the process can flood its log.
 *
 * @module
 */
import type { Logger } from "./log.ts";

/** Options of {@linkcode BoundedWarnings}. */
export interface BoundedWarningsOptions {
  /** Warnings logged per window; the rest are counted. Default 5. */
  perWindow?: number;
  /** The window, in ms. Default 10,000. */
  windowMs?: number;
  /** The clock. Default `Date.now`. */
  clock?: () => number;
}

/**
 * Logs warnings of one kind at a bounded rate.
 *
 * @example
 * ```ts
 * const warnings = new BoundedWarnings(log, "undecodable packets");
 * warnings.warn("dropped a packet on {subject}", { subject });
 * ```
 */
export class BoundedWarnings {
  readonly #log: Logger;
  readonly #what: string;
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #clock: () => number;
  #windowStart = -Infinity;
  #logged = 0;
  #unlogged = 0;

  /** Warnings about `what` (e.g. "bad heartbeats"), said in the summary line. */
  constructor(
    log: Logger,
    what: string,
    options: BoundedWarningsOptions = {},
  ) {
    this.#log = log;
    this.#what = what;
    this.#perWindow = options.perWindow ?? 5;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#clock = options.clock ?? Date.now;
  }

  /** Logs one warning, unless this window's share is used up (then counts it). */
  warn(template: string, properties: Record<string, unknown>): void {
    const now = this.#clock();
    if (now - this.#windowStart >= this.#windowMs) {
      if (this.#unlogged > 0) {
        this.#log.warn(
          `{count} more ${this.#what} were not logged in the last {seconds} s`,
          { count: this.#unlogged, seconds: this.#windowMs / 1000 },
        );
      }
      this.#windowStart = now;
      this.#logged = 0;
      this.#unlogged = 0;
    }
    if (this.#logged < this.#perWindow) {
      this.#logged++;
      this.#log.warn(template, properties);
    } else {
      this.#unlogged++;
    }
  }
}
