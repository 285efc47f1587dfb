/**
 * The assertions tests use: `node:assert/strict`, in place of `@std/assert`
 * (JSR is not reachable from our machines).
 *
 * @module
 */
import assert from "node:assert/strict";

export const {
  deepEqual: assertEquals,
  equal: assertStrictEquals,
  match: assertMatch,
  throws: assertThrows,
  rejects: assertRejects,
  notEqual: assertNotEquals,
} = assert;

/** Asserts `value` is truthy. */
export function assertOk(value: unknown, message?: string): asserts value {
  assert.ok(value, message);
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 50, what = "condition" } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${
      last ? `: ${last}` : ""
    }`,
  );
}
