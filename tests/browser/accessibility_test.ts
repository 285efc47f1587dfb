/**
 * Every view of the dashboard checked by axe-core in Chromium, in the light
 * and the dark theme, against real processes: no serious or critical
 * violation. The views are reached by keyboard, as they would be without a
 * mouse.
 */
import type { Page } from "playwright-core";
import { assertEquals, assertOk } from "../assert.ts";
import { launchChromium } from "../../scripts/support/chromium.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { freePort } from "../../scripts/support/ports.ts";
import { runTask, startTask } from "../processes.ts";
import { ROOT } from "../../scripts/permissions.ts";

const AXE = await Deno.readTextFile(`${ROOT}/node_modules/axe-core/axe.min.js`);

interface Violation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** axe-core's serious and critical violations on the page as it is now. */
async function violations(page: Page): Promise<Violation[]> {
  // Through the DevTools protocol, which the page's CSP does not govern.
  if (!await page.evaluate("typeof axe !== 'undefined'")) {
    await page.evaluate(AXE);
  }
  return await page.evaluate(`axe.run(document).then((r) =>
    r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
      })))`) as Violation[];
}

Deno.test("axe-core finds no serious or critical violation on any view, light or dark", async () => {
  await using nats = await startNatsServer();
  const port = freePort();
  const env = {
    NATS_URL: nats.url,
    CORTEX_DURABILITY: "none",
    CORTEX_HEARTBEAT_MS: "500",
    CORTEX_ECHO_MIN_MS: "0",
    CORTEX_ECHO_MAX_MS: "5",
    CORTEX_ECHO_FAIL_RATE: "0.3",
  };
  await using scheduler = startTask("scheduler", [], {
    ...env,
    CORTEX_DASHBOARD_PORT: String(port),
  });
  await scheduler.waitFor(/dashboard listening on/, 60_000);
  await using worker = startTask("worker:echo", [], {
    ...env,
    CORTEX_WORKER_ID: "echo-a11y",
  });
  await worker.waitFor(/taking job\.echo/);
  const run = await runTask(
    "submit",
    ["--count", "30", "--concurrency", "5"],
    env,
  );
  assertOk(run.code === 0 || run.code === 1, run.stderr);

  await using browser = await launchChromium();
  const { page } = browser;
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.locator('tr[data-worker-id="echo-a11y"]').waitFor({
    timeout: 10_000,
  });
  // An action for the audit view: a submission from the form, by keyboard.
  await page.focus('textarea[name="payload"]');
  await page.keyboard.type("from the keyboard");
  await page.focus('button[type="submit"]');
  await page.keyboard.press("Enter");
  await page.locator("[data-submit-result]").waitFor({ timeout: 10_000 });

  const found: Record<string, Violation[]> = {};
  const views: [string, string, string][] = [
    ["overview", "overview", 'tr[data-job-id][data-state="COMPLETED"]'],
    ["queues", "queues", '[data-queue="job.echo"]'],
    ["search", "search", "[data-history-job]"],
    ["audit", "audit", '[data-audit-action="submit"]'],
    // Core mode: the view's empty state (tests/browser/dead_letters_test.ts
    // checks it full, with its dialog).
    ["dead letters", "dead-letters", "[data-dl-total]"],
  ];
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [name, link, ready] of views) {
      // By keyboard: focus the view's link and press Enter.
      await page.focus(`[data-view-link="${link}"]`);
      await page.keyboard.press("Enter");
      await page.locator(ready).first().waitFor({ timeout: 10_000 });
      found[`${name} (${scheme})`] = await violations(page);
      await page.screenshot({
        path: `${ROOT}/test-artifacts/a11y-${name}-${scheme}.png`,
      });
    }
    // A worker's view, and a job's detail open over the overview.
    await page.goto(`http://127.0.0.1:${port}/#worker/echo-a11y`);
    await page.locator("[data-history-job]").first().waitFor({
      timeout: 10_000,
    });
    found[`worker (${scheme})`] = await violations(page);
    await page.focus('[data-view-link="overview"]');
    await page.keyboard.press("Enter");
    const row = page.locator('tr[data-job-id][data-state="FAILED"]').first();
    await row.waitFor({ timeout: 10_000 });
    await row.focus();
    await page.keyboard.press("Enter");
    await page.locator(".detail").waitFor({ timeout: 10_000 });
    found[`job detail (${scheme})`] = await violations(page);
    await page.screenshot({
      path: `${ROOT}/test-artifacts/a11y-detail-${scheme}.png`,
    });
    await page.click('.detail button[aria-label="close"]');
  }
  const bad = Object.entries(found).filter(([, v]) => v.length > 0);
  assertEquals(bad, [], JSON.stringify(bad, null, 2));
  assertEquals(pageErrors, [], "no script error on the page");
});
