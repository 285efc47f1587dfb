/**
 * The worker registry's probation: ids that beat once while the registry
 * was full wait here, so a steady new worker gets in on its second beat
 * while a flood of ids that beat once costs O(1) each and holds no slot.
 *
 * @module
 */
import { Ring } from "./ring.ts";

/**
 * A set of at most `limit` ids that forgets its oldest when full, each step
 * O(1) amortised. The order is kept in a ring of tickets; a ticket whose id
 * was deleted (or added again since) is skipped when it is reached.
 */
export class Probation {
  readonly #limit: number;
  readonly #tickets = new Map<string, object>();
  #order = new Ring<[string, object]>();

  /** A probation of at most `limit` ids (0: none is kept). */
  constructor(limit: number) {
    this.#limit = Math.max(0, limit);
  }

  /** Adds `id` as the newest, forgetting the oldest if full. */
  add(id: string): void {
    if (this.#limit === 0) return;
    while (this.#tickets.size >= this.#limit) {
      const [oldest, ticket] = this.#order.shift()!;
      if (this.#tickets.get(oldest) === ticket) this.#tickets.delete(oldest);
    }
    const ticket = {};
    this.#tickets.set(id, ticket);
    this.#order.push([id, ticket]);
    // Deleted ids leave their tickets behind: compact before they outnumber
    // the live ones twice, which costs O(1) per add amortised.
    if (this.#order.size > 2 * this.#limit) {
      const order = new Ring<[string, object]>();
      for (
        let t = this.#order.shift();
        t !== undefined;
        t = this.#order.shift()
      ) {
        if (this.#tickets.get(t[0]) === t[1]) order.push(t);
      }
      this.#order = order;
    }
  }

  /** Removes `id`; whether it was there. */
  delete(id: string): boolean {
    return this.#tickets.delete(id);
  }
}
