/**
 * The assertions tests use: `node:assert/strict` behind explicit signatures,
 * in place of `@std/assert` (JSR is not reachable from our machines).
 *
 * @module
 */
import assert from "node:assert/strict";

/** Deep, strict equality. */
export function assertEquals<T>(
  actual: unknown,
  expected: T,
  message?: string,
): void {
  assert.deepEqual(actual, expected, message);
}

/** `===` equality. */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  message?: string,
): void {
  assert.equal(actual, expected, message);
}

/** Inequality. */
export function assertNotEquals(
  actual: unknown,
  expected: unknown,
  message?: string,
): void {
  assert.notDeepEqual(actual, expected, message);
}

/** Asserts `value` is truthy. */
export function assertOk(value: unknown, message?: string): asserts value {
  assert.ok(value, message);
}

/** Asserts `text` matches `pattern`. */
export function assertMatch(
  text: string,
  pattern: RegExp,
  message?: string,
): void {
  assert.match(text, pattern, message);
}

/** Asserts `fn` throws an error whose message matches `pattern`. */
export function assertThrows(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, pattern);
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
