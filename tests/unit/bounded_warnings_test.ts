import { BoundedWarnings } from "../../src/bounded_warnings.ts";
import type { Logger } from "../../src/log.ts";
import { assertEquals } from "../assert.ts";

Deno.test("warnings: five per window are logged, the rest counted and summarised once", () => {
  const lines: string[] = [];
  const log = {
    warn: (message: string, props?: Record<string, unknown>) =>
      lines.push(`${message} ${JSON.stringify(props ?? {})}`),
  } as unknown as Logger;
  let now = 0;
  const warnings = new BoundedWarnings(log, "bad things", {
    clock: () => now,
  });
  for (let i = 0; i < 12; i++) warnings.warn("bad {i}", { i });
  assertEquals(lines.length, 5);
  now += 10_000;
  warnings.warn("bad {i}", { i: 12 });
  assertEquals(lines.slice(5), [
    '{count} more bad things were not logged in the last {seconds} s {"count":7,"seconds":10}',
    'bad {i} {"i":12}',
  ]);
});
