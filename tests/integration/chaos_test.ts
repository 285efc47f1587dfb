/**
 * `deno task chaos --quick` inside the test suite: real processes, each
 * fault struck mid-load, and every job counted. No accepted job may be lost
 * or run twice; the flaky handler's jobs almost all complete, some after
 * more than one attempt.
 */
import { runTask } from "../../scripts/support/tasks.ts";
import { assertEquals, assertOk } from "../assert.ts";
import type { FaultReport } from "../../scripts/chaos/run.ts";

Deno.test("deno task chaos --quick: no job lost or run twice under any fault", async () => {
  const json = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const run = await runTask("chaos", ["--quick", "--json", json]);
    const reports: FaultReport[] = JSON.parse(await Deno.readTextFile(json));
    assertEquals(
      reports.map((r) => r.fault),
      ["worker", "scheduler", "nats-server", "flaky"],
      run.stdout + run.stderr,
    );
    for (const r of reports) {
      const line = JSON.stringify(r);
      assertEquals([r.accepted, r.lost, r.twice], [r.jobs, 0, 0], line);
      assertEquals(r.completed + r.failed, r.jobs, line);
      if (r.fault !== "flaky") assertEquals(r.completed, r.jobs, line);
    }
    const flaky = reports.find((r) => r.fault === "flaky")!;
    assertOk(flaky.retried > 0, "some flaky jobs took more than one attempt");
    assertOk(flaky.completed >= flaky.jobs * 0.95, JSON.stringify(flaky));
    assertEquals(run.code, 0, run.stderr);
  } finally {
    await Deno.remove(json);
  }
});
