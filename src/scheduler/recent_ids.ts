/**
 * A set of the most recent ids, bounded: the oldest is forgotten when it is
 * full. O(1) each way (a Set for membership, a {@linkcode Ring} for the
 * order, since a Set's oldest entry is slow to find after many deletes).
 *
 * @module
 */
import { Ring } from "./ring.ts";

/**
 * The last `limit` ids added.
 *
 * @example
 * ```ts
 * const recent = new RecentIds(2);
 * recent.add("a"); recent.add("b"); recent.add("c");
 * recent.has("a"); // false
 * ```
 */
export class RecentIds {
  readonly #limit: number;
  readonly #ids = new Set<string>();
  readonly #order = new Ring<string>();

  /** A set of at most `limit` ids. */
  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** Whether `id` is among the last ones added. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Adds `id` (once), forgetting the oldest when full. */
  add(id: string): void {
    if (this.#ids.has(id)) return;
    this.#ids.add(id);
    this.#order.push(id);
    if (this.#order.size > this.#limit) this.#ids.delete(this.#order.shift()!);
  }
}
