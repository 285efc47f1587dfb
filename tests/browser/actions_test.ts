/**
 * Cancel and drain from the dashboard in a real browser (Debian's
 * Chromium) against real processes: nats-server, `deno task scheduler`,
 * `deno task worker:echo` with a long work time, `deno task submit`. Each
 * action is taken by keyboard.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { launchChromium } from "../../scripts/support/chromium.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { freePort } from "../../scripts/support/ports.ts";
import { startTask } from "../processes.ts";
import { ROOT } from "../../scripts/permissions.ts";
import type { Page } from "playwright-core";

const AXE = await Deno.readTextFile(`${ROOT}/node_modules/axe-core/axe.min.js`);

/** axe-core's serious and critical violations, by rule id, on the page now. */
async function violations(page: Page): Promise<string[]> {
  if (!await page.evaluate("typeof axe !== 'undefined'")) {
    await page.evaluate(AXE);
  }
  return await page.evaluate(`axe.run(document).then((r) => r.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => v.id + ": " + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")))`) as string[];
}

for (const durability of ["none", "jetstream"]) {
  Deno.test(`a running job cancelled from its detail ends CANCELLED, its handler aborted; a worker drained and resumed from its row (CORTEX_DURABILITY=${durability})`, async () => {
    await using nats = await startNatsServer();
    const port = freePort();
    const env = {
      NATS_URL: nats.url,
      CORTEX_DURABILITY: durability,
      CORTEX_HEARTBEAT_MS: "500",
      // Far longer than the test: the job only ends by the cancel.
      CORTEX_ECHO_MIN_MS: "40000",
      CORTEX_ECHO_MAX_MS: "40000",
    };
    await using scheduler = startTask("scheduler", [], {
      ...env,
      CORTEX_DASHBOARD_PORT: String(port),
    });
    await scheduler.waitFor(/dashboard listening on/, 60_000);
    const workerId = `echo-cancel-${durability}`;
    await using worker = startTask("worker:echo", [], {
      ...env,
      CORTEX_WORKER_ID: workerId,
    });
    await worker.waitFor(/taking job\.echo/, 60_000);

    await using browser = await launchChromium();
    const { page } = browser;
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`http://127.0.0.1:${port}/#`);
    await Deno.mkdir(`${ROOT}/test-artifacts`, { recursive: true });
    const shot = `${ROOT}/test-artifacts/actions-${durability}.png`;
    await using submit = startTask(
      "submit",
      ["--json", "--payload", "slow"],
      env,
    );
    try {
      const row = page.locator("tr[data-job-id]").first();
      await row.waitFor({ timeout: 20_000 });
      const jobId = (await row.getAttribute("data-job-id"))!;
      // Running: the worker says it holds one job.
      await page.locator(`tr[data-worker-id="${workerId}"]`)
        .getByText("1 / 1").waitFor({ timeout: 20_000 });
      await row.focus();
      await page.keyboard.press("Enter");
      const cancel = page.locator(`.detail button[data-cancel]`);
      await cancel.waitFor({ timeout: 10_000 });
      assertEquals(
        await cancel.getAttribute("aria-label"),
        `cancel job ${jobId}`,
      );
      assertEquals(await violations(page), [], "axe, with the Cancel button");
      await cancel.focus();
      await page.keyboard.press("Enter");
      await page.locator(`tr[data-job-id="${jobId}"][data-state="CANCELLED"]`)
        .waitFor({ timeout: 10_000 });
      await page.locator(".detail [role=status]").getByText(
        /Job cancelled by dashboard/,
      )
        .waitFor({ timeout: 10_000 });
      // The worker's handler saw its signal abort.
      await worker.waitFor(/cancelled while running: aborted/, 10_000);
      // The submitter heard one result for it: CANCELLED.
      await submit.status;
      const results = submit.lines.filter((l) => l.startsWith(`{"job_id"`));
      assertEquals(results.length, 1, submit.lines.join("\n"));
      assertMatch(results[0], /"status":"CANCELLED"/);
      // Its summary and the dashboard's counters count it as cancelled.
      const summary = submit.lines.find((l) => l.startsWith(`{"summary"`));
      assertMatch(summary ?? "", /"cancelled":1/, submit.lines.join("\n"));
      await page.locator('[data-counter="cancelled"] .card-value')
        .getByText("1", { exact: true }).waitFor({ timeout: 10_000 });

      // Drain the worker from its row, by keyboard; then resume it.
      const drain = page.locator(
        `tr[data-worker-id="${workerId}"] button[data-drain="drain"]`,
      );
      await drain.waitFor({ timeout: 10_000 });
      await drain.focus();
      await page.keyboard.press("Enter");
      await page.locator(
        `tr[data-worker-id="${workerId}"][data-state="draining"]`,
      )
        .waitFor({ timeout: 10_000 });
      assertOk(
        (await page.locator(`tr[data-worker-id="${workerId}"]`).innerText())
          .includes("draining"),
        "the state is written, not only coloured",
      );
      await worker.waitFor(/draining: finishing/, 10_000);
      assertEquals(await violations(page), [], "axe, with a draining worker");
      const resume = page.locator(
        `tr[data-worker-id="${workerId}"] button[data-drain="resume"]`,
      );
      await resume.focus();
      await page.keyboard.press("Enter");
      await page.locator(
        `tr[data-worker-id="${workerId}"][data-state="online"]`,
      )
        .waitFor({ timeout: 10_000 });
    } finally {
      await page.screenshot({ path: shot });
    }
    assertEquals(pageErrors, [], "no script error on the page");
  });
}
