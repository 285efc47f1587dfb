/**
 * The roll call: workers already running when a scheduler starts are listed
 * at once, not at their next heartbeat; with nkeys too (the worker's role
 * may listen to the roll call, and only the scheduler's may call it).
 */
import { ensureRoleNkeys, writeServerConfig } from "../../scripts/nkeys.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import type { WorkersResponse } from "../../src/contract/mod.ts";
import { assertOk, eventually } from "../assert.ts";
import { dashboardUrl, startTask } from "../processes.ts";

for (const secured of [false, true]) {
  Deno.test(
    `roll call: a worker running before the scheduler starts is listed at once${
      secured ? ", with each role's nkey" : ""
    }`,
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "cortex-rollcall-" });
      try {
        const keys = secured ? await ensureRoleNkeys(dir) : undefined;
        await using nats = await startNatsServer(
          keys ? { configFile: await writeServerConfig(dir, keys.users) } : {},
        );
        const base = { NATS_URL: nats.url, CORTEX_DURABILITY: "none" };
        // Its first heartbeat goes out before the scheduler is there, and the
        // next one a minute later: only the roll call can list it sooner.
        await using worker = startTask("worker:echo", [], {
          ...base,
          CORTEX_WORKER_ID: "echo-early",
          CORTEX_HEARTBEAT_MS: "60000",
          ...(keys ? { NATS_NKEY: keys.seedFiles.worker } : {}),
        });
        await worker.waitFor(/taking job\.echo/);
        await using scheduler = startTask("scheduler", [], {
          ...base,
          CORTEX_DASHBOARD_PORT: "0",
          ...(keys ? { NATS_NKEY: keys.seedFiles.scheduler } : {}),
        });
        const url = await dashboardUrl(scheduler, 60_000);
        await eventually(async () => {
          const res = await fetch(`${url}/api/workers`);
          const body = await res.json() as WorkersResponse;
          return body.workers.some((w) => w.workerId === "echo-early") ||
            undefined;
        }, { what: "echo-early listed", timeoutMs: 10_000 });
        const lines = [...scheduler.lines, ...worker.lines].join("\n");
        assertOk(!/violation/i.test(lines), lines);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
