/**
 * Which route a topic's jobs take in durable mode, asked of the worker
 * registry at most every {@linkcode ROUTE_CACHE_MS}.
 *
 * @module
 */
import type { Route } from "./intake.ts";
import type { WorkerRegistry } from "./registry.ts";

/** How long a pool's route is reused before the registry is asked again, in ms. */
export const ROUTE_CACHE_MS = 250;

/**
 * The routes of topics, cached briefly.
 *
 * @example
 * ```ts
 * const routes = new RouteCache(registry);
 * routes.route("job.echo"); // { durable: true } when no core worker alone serves it
 * ```
 */
export class RouteCache {
  readonly #registry: WorkerRegistry;
  readonly #routes = new Map<string, { at: number; route: Route }>();

  /** Routes judged from `registry`. */
  constructor(registry: WorkerRegistry) {
    this.#registry = registry;
  }

  /**
   * The route of a topic's jobs: durable when a durable worker of its pool
   * (the topic's last token) is online or no worker of it is (the job
   * waits in the stream), core when only core workers of it are online.
   * Draining workers take nothing new, so they do not count.
   */
  route(topic: string): Route {
    const now = Date.now();
    const cached = this.#routes.get(topic);
    if (cached && now - cached.at < ROUTE_CACHE_MS) return cached.route;
    const pool = topic.slice(topic.lastIndexOf(".") + 1);
    const online = this.#registry.onlineInPool(pool);
    const route: Route = { durable: online.durable > 0 || online.core === 0 };
    if (this.#routes.size > 1_024) this.#routes.clear();
    this.#routes.set(topic, { at: now, route });
    return route;
  }
}
