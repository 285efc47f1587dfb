/**
 * The worker registry's probation: ids that beat once while the registry
 * was full wait here, so a steady new worker gets in on its second beat
 * while a flood of ids that beat once costs O(1) each and holds no slot.
 *
 * @module
 */

/**
 * The ids among the last `limit` added, minus those deleted since: a set
 * that forgets its oldest arrival when a new one comes, each step O(1) and
 * allocation-free (a flood of new worker ids goes through here, one per
 * heartbeat). Arrivals take the slots of a fixed ring in turn; the map says
 * which slot holds each id, so an id deleted (or added again) leaves a slot
 * behind that the ring simply overwrites when it comes round.
 */
export class Probation {
  readonly #slots: (string | undefined)[];
  readonly #slotOf = new Map<string, number>();
  #next = 0;

  /** A probation of at most `limit` ids (0: none is kept). */
  constructor(limit: number) {
    this.#slots = new Array(Math.max(0, limit)).fill(undefined);
  }

  /** Adds `id` as the newest arrival, forgetting the oldest if that is still here. */
  add(id: string): void {
    const slots = this.#slots;
    if (slots.length === 0) return;
    const slot = this.#next;
    this.#next = slot + 1 === slots.length ? 0 : slot + 1;
    const oldest = slots[slot];
    if (oldest !== undefined && this.#slotOf.get(oldest) === slot) {
      this.#slotOf.delete(oldest);
    }
    slots[slot] = id;
    this.#slotOf.set(id, slot);
  }

  /** Whether `id` is here. */
  has(id: string): boolean {
    return this.#slotOf.has(id);
  }

  /** Removes `id`; whether it was there. */
  delete(id: string): boolean {
    return this.#slotOf.delete(id);
  }

  /** Ids held now. */
  get size(): number {
    return this.#slotOf.size;
  }
}
