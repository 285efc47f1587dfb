/**
 * Just enough protobuf reading for the benchmark's client: where one
 * length-delimited field (e.g. `BusPacket.job_result.job_id`) sits in a
 * packet's bytes, so the load driver can match results to jobs without
 * decoding whole messages. The same cost is paid for every system measured.
 *
 * @module
 */

/**
 * The `[start, end)` byte range of the length-delimited field reached by
 * `path` (field numbers, outermost first), or `undefined` when it is absent
 * or the bytes are not protobuf.
 *
 * @example
 * ```ts
 * // BusPacket.job_result (11) → JobResult.job_id (1)
 * const range = fieldRange(bytes, 11, 1);
 * ```
 */
export function fieldRange(
  bytes: Uint8Array,
  ...path: number[]
): [number, number] | undefined {
  let start = 0;
  let end = bytes.length;
  for (const want of path) {
    const found = findField(bytes, start, end, want);
    if (!found) return undefined;
    [start, end] = found;
  }
  return [start, end];
}

function findField(
  bytes: Uint8Array,
  start: number,
  end: number,
  want: number,
): [number, number] | undefined {
  let pos = start;
  while (pos < end) {
    let tag = 0;
    let shift = 0;
    let b: number;
    do {
      if (pos >= end || shift > 28) return undefined;
      b = bytes[pos++];
      tag |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    const field = tag >>> 3;
    switch (tag & 7) {
      case 0: // varint
        while (pos < end && bytes[pos++] & 0x80) { /* skip */ }
        break;
      case 1: // 64-bit
        pos += 8;
        break;
      case 5: // 32-bit
        pos += 4;
        break;
      case 2: { // length-delimited
        let len = 0;
        shift = 0;
        do {
          if (pos >= end || shift > 28) return undefined;
          b = bytes[pos++];
          len |= (b & 0x7f) << shift;
          shift += 7;
        } while (b & 0x80);
        if (pos + len > end) return undefined;
        if (field === want) return [pos, pos + len];
        pos += len;
        break;
      }
      default:
        return undefined;
    }
  }
  return undefined;
}

/** How many decimal digits end every benchmark job id and trace id. */
export const INDEX_DIGITS = 7;

/** Writes `value` as {@linkcode INDEX_DIGITS} zero-padded digits at `at`. */
export function writeIndex(bytes: Uint8Array, at: number, value: number): void {
  for (let i = at + INDEX_DIGITS - 1; i >= at; i--) {
    bytes[i] = 48 + (value % 10);
    value = Math.floor(value / 10);
  }
}

/**
 * The index written by {@linkcode writeIndex} just before `end`, or -1 when
 * those bytes are not digits.
 */
export function readIndex(bytes: Uint8Array, end: number): number {
  let value = 0;
  for (let i = end - INDEX_DIGITS; i < end; i++) {
    const d = bytes[i] - 48;
    if (i < 0 || d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}
