/**
 * The worker's running jobs' controllers (src/worker/running_jobs.ts): a
 * cancel aborts one and marks it, a stop past its grace aborts every one
 * and those started after, without marking them cancelled.
 */
import { assertEquals, assertOk } from "../assert.ts";
import { RunningJobs } from "../../src/worker/running_jobs.ts";

Deno.test("running jobs: a cancel aborts that job's signal only, as cancelled; an ended or unknown job is not cancelled", () => {
  const running = new RunningJobs();
  const a = running.start(), b = running.start();
  running.add("a", a);
  running.add("b", b);
  assertOk(running.cancel("a"));
  assertOk(a.signal.aborted && running.cancelled(a));
  assertEquals((a.signal.reason as Error).message, "job a was cancelled");
  assertOk(!b.signal.aborted && !running.cancelled(b));
  running.delete("b");
  assertOk(!running.cancel("b") && !b.signal.aborted);
  assertOk(!running.cancel("nobody"));
});

Deno.test("running jobs: abortAll aborts every running job and those started after, with its reason, none as cancelled; a later cancel still marks one", () => {
  const running = new RunningJobs();
  const a = running.start();
  running.add("a", a);
  const reason = new Error("stopping");
  running.abortAll(reason);
  assertOk(a.signal.aborted && a.signal.reason === reason);
  assertOk(!running.cancelled(a));
  const later = running.start();
  assertOk(later.signal.aborted && later.signal.reason === reason);
  running.add("later", later);
  assertOk(running.cancel("a"));
  // Aborted already: the reason stays the stop's, but the outcome is a
  // cancelled job's (not reported).
  assertOk(a.signal.reason === reason && running.cancelled(a));
  assertOk(!running.cancelled(later));
});
