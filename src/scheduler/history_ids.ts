/**
 * Where the history store finds a job by its id: a hash table in two typed
 * arrays, from a 32-bit hash of each held job's id to its submission time,
 * the first half of the row's key in the file. It replaced an index on the
 * job id in the file: with random ids (the SDK's UUIDs) each new job put
 * its index entry on another page of a 20 MB index that never fitted the
 * page cache, so each job wrote a page; here it costs a few array reads
 * (see docs/performance.md, "The history on file").
 *
 * Only hashes are kept, not ids, so an entry is a candidate: the store
 * reads the row at that time with that id, and tries the next entry with
 * the same hash when none is there. Bounded: 12 bytes a slot, with a
 * quarter of the slots or more empty, sized once for the history's
 * capacity ({@linkcode IdTable.reserve}) so it does not grow after.
 *
 * @module
 */

/** Most of the slots in use before the table grows (linear probing slows past it). */
const MAX_LOAD = 0.75;
/** Slots of a table nobody reserved for. */
const FIRST_SLOTS = 1024;

/**
 * A 32-bit FNV-1a hash of `id`'s UTF-16 code units, never 0 (which marks
 * an empty slot).
 */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  }
  return (h >>> 0) || 1;
}

/**
 * Hash → submission time, several entries per hash allowed (two ids may
 * share one). Linear probing; a removal shifts the entries after it back,
 * so no slot is left marked deleted.
 *
 * @example
 * ```ts
 * const table = new IdTable();
 * table.add(idHash("job-1"), 1700000000000);
 * for (let s = table.first(idHash("job-1")); s >= 0; s = table.next(s)) {
 *   table.at(s); // a submission time to look up with the id
 * }
 * ```
 */
export class IdTable {
  #hashes: Uint32Array;
  #times: Float64Array;
  #size = 0;

  /** An empty table. */
  constructor() {
    this.#hashes = new Uint32Array(FIRST_SLOTS);
    this.#times = new Float64Array(FIRST_SLOTS);
  }

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** Slots (the memory held is 12 bytes each). */
  get slots(): number {
    return this.#hashes.length;
  }

  /** Makes room for `entries` without growing again. */
  reserve(entries: number): void {
    const slots = Math.ceil(entries / MAX_LOAD) + 1;
    if (slots > this.#hashes.length) this.#resize(slots);
  }

  /** The slot of the first entry with `hash`, or -1. */
  first(hash: number): number {
    const hashes = this.#hashes;
    for (
      let s = hash % hashes.length;;
      s = s + 1 === hashes.length ? 0 : s + 1
    ) {
      const h = hashes[s];
      if (h === hash) return s;
      if (h === 0) return -1;
    }
  }

  /** The slot of the next entry with the same hash as the one at `slot`, or -1. */
  next(slot: number): number {
    const hashes = this.#hashes, hash = hashes[slot];
    for (let s = slot + 1;; s++) {
      if (s === hashes.length) s = 0;
      const h = hashes[s];
      if (h === hash) return s;
      if (h === 0) return -1;
    }
  }

  /** The submission time at `slot`. */
  at(slot: number): number {
    return this.#times[slot];
  }

  /** Sets the submission time at `slot` (a job submitted again). */
  set(slot: number, time: number): void {
    this.#times[slot] = time;
  }

  /** Adds an entry. */
  add(hash: number, time: number): void {
    if (this.#size + 1 > this.#hashes.length * MAX_LOAD) {
      this.#resize(this.#hashes.length * 2);
    }
    this.#put(hash, time);
    this.#size++;
  }

  /** Removes one entry of `hash` at `time`; false when there is none. */
  remove(hash: number, time: number): boolean {
    let s = this.first(hash);
    while (s >= 0 && this.#times[s] !== time) s = this.next(s);
    if (s < 0) return false;
    const hashes = this.#hashes, times = this.#times, n = hashes.length;
    // Backward shift: each entry after the hole that may sit in it (its
    // home slot is not between the hole and itself) moves into it.
    for (
      let j = s + 1 === n ? 0 : s + 1;
      hashes[j] !== 0;
      j = j + 1 === n ? 0 : j + 1
    ) {
      const home = hashes[j] % n;
      const stays = s <= j ? s < home && home <= j : s < home || home <= j;
      if (!stays) {
        hashes[s] = hashes[j];
        times[s] = times[j];
        s = j;
      }
    }
    hashes[s] = 0;
    this.#size--;
    return true;
  }

  /** Removes every entry (keeping the slots). */
  clear(): void {
    this.#hashes.fill(0);
    this.#size = 0;
  }

  #put(hash: number, time: number): void {
    const hashes = this.#hashes, n = hashes.length;
    let s = hash % n;
    while (hashes[s] !== 0) s = s + 1 === n ? 0 : s + 1;
    hashes[s] = hash;
    this.#times[s] = time;
  }

  #resize(slots: number): void {
    const hashes = this.#hashes, times = this.#times;
    this.#hashes = new Uint32Array(slots);
    this.#times = new Float64Array(slots);
    for (let s = 0; s < hashes.length; s++) {
      if (hashes[s] !== 0) this.#put(hashes[s], times[s]);
    }
  }
}
