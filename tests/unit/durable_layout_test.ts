import {
  isFinalAttempt,
  ledgerKey,
  retryDelayMs,
  workConsumer,
  workSubject,
} from "../../src/bus/durable/layout.ts";
import { assertEquals, assertOk } from "../assert.ts";

Deno.test("consumer names and ledger keys hold only the characters NATS allows", () => {
  assertEquals(workSubject("job.echo"), "cortex.work.job.echo");
  assertEquals(workConsumer("job.echo"), "work_job_2eecho");
  assertOk(/^[A-Za-z0-9_-]+$/.test(workConsumer("a.b/c d*>")));
  assertOk(workConsumer("a.b") !== workConsumer("a_2eb_")); // no collision by escaping
  assertEquals(ledgerKey("job-1_x"), "j.job-1_x");
  for (const id of ["a b", "ü", "x.y", "../etc", "a".repeat(300)]) {
    assertOk(/^[-/_=.a-zA-Z0-9]+$/.test(ledgerKey(id)), id);
    assertOk(ledgerKey(id).startsWith("b."), id);
  }
  assertOk(ledgerKey("a b") !== ledgerKey("a_b"));
});

Deno.test("an attempt is final when it did not fail or was the last allowed", () => {
  assertEquals(isFinalAttempt(false, 1, 3), true);
  assertEquals(isFinalAttempt(true, 1, 3), false);
  assertEquals(isFinalAttempt(true, 3, 3), true);
  assertEquals(isFinalAttempt(true, 4, 3), true); // redelivered past the limit
});

Deno.test("retry delays double per attempt, stay within half to all, and are capped", () => {
  assertEquals(retryDelayMs(1, 1_000, 30_000, () => 0), 500);
  assertEquals(retryDelayMs(1, 1_000, 30_000, () => 1), 1_000);
  assertEquals(retryDelayMs(3, 1_000, 30_000, () => 1), 4_000);
  assertEquals(retryDelayMs(20, 1_000, 30_000, () => 1), 30_000);
  assertEquals(retryDelayMs(20, 1_000, 30_000, () => 0), 15_000);
  assertEquals(retryDelayMs(2, 0, 30_000, () => 0.5), 0);
});
