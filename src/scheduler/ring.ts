/**
 * A first-in first-out queue over a growable ring buffer: O(1) each way,
 * where an array's `shift()` is O(n) and a Set's oldest entry costs a walk
 * over every deleted slot until V8 rehashes (which once made eviction the
 * scheduler's top self-time function under load).
 *
 * @module
 */

/**
 * A first-in first-out queue: a growable ring buffer, O(1) each way.
 *
 * @example
 * ```ts
 * const ring = new Ring<string>();
 * ring.push("a");
 * ring.shift(); // "a"
 * ```
 */
export class Ring<T> {
  #items: (T | undefined)[] = new Array(16);
  #head = 0;
  #size = 0;

  /** Items queued now. */
  get size(): number {
    return this.#size;
  }

  /** Queues `item` as the newest. */
  push(item: T): void {
    if (this.#size === this.#items.length) {
      const items = new Array<T | undefined>(this.#items.length * 2);
      for (let i = 0; i < this.#size; i++) {
        items[i] = this.#items[(this.#head + i) % this.#items.length];
      }
      this.#items = items;
      this.#head = 0;
    }
    this.#items[(this.#head + this.#size) % this.#items.length] = item;
    this.#size++;
  }

  /** The oldest item, removed; `undefined` when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }
}
