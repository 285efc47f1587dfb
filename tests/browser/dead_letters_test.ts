/**
 * The dead-letter view and bulk actions in a real browser (Debian's
 * Chromium) against real processes in durable mode: jobs dead-lettered by
 * an echo worker failing every job (`CORTEX_ECHO_FAIL_RATE=1`), then a
 * healthy one (`0`); a retry from the dead-letter view completes; a bulk
 * retry by the search's filter counts first, asks for confirmation (by
 * keyboard), shows its progress, pushed over the event stream (its
 * `GET /api/bulk/:id` is refused in the page, so only the stream can tell),
 * and completes; axe-core finds no serious or critical violation on the
 * view or the dialog, light or dark.
 */
import type { Page } from "playwright-core";
import type {
  DeadLettersResponse,
  JobDetail,
  JobsResponse,
} from "../../src/contract/mod.ts";
import { assertEquals, assertOk, eventually } from "../assert.ts";
import { launchChromium } from "../../scripts/support/chromium.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { freePort } from "../../scripts/support/ports.ts";
import { runTask, startTask } from "../processes.ts";
import { ROOT } from "../../scripts/permissions.ts";

const AXE = await Deno.readTextFile(`${ROOT}/node_modules/axe-core/axe.min.js`);
const JOBS = 6;

/** axe-core's serious and critical violations on the page now, by rule and node. */
async function violations(page: Page): Promise<string[]> {
  if (!await page.evaluate("typeof axe !== 'undefined'")) {
    await page.evaluate(AXE);
  }
  return await page.evaluate(`axe.run(document).then((r) =>
    r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => v.id + ": " + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")))`) as string[];
}

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assertEquals(res.status, 200, url);
  return await res.json();
}

Deno.test("dead letters: a retry from the view completes; a bulk retry by filter counts first, is confirmed by keyboard and completes; axe finds nothing serious (durable)", async () => {
  await using nats = await startNatsServer();
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    NATS_URL: nats.url,
    CORTEX_DURABILITY: "jetstream",
    CORTEX_HEARTBEAT_MS: "500",
    CORTEX_ECHO_MIN_MS: "0",
    CORTEX_ECHO_MAX_MS: "0",
  };
  await using scheduler = startTask("scheduler", [], {
    ...env,
    CORTEX_DASHBOARD_PORT: String(port),
    CORTEX_MAX_ATTEMPTS: "1",
  });
  await scheduler.waitFor(/dashboard listening on/, 60_000);
  const failing = startTask("worker:echo", [], {
    ...env,
    CORTEX_WORKER_ID: "echo-fails",
    CORTEX_ECHO_FAIL_RATE: "1",
  });
  await failing.waitFor(/taking job\.echo/, 60_000);
  const run = await runTask("submit", ["--count", String(JOBS)], env);
  assertOk(run.code === 0 || run.code === 1, run.stderr);
  const dead = await eventually(async () => {
    const d = await json<DeadLettersResponse>(`${base}/api/dead-letters`);
    return d.total === JOBS ? d : undefined;
  }, { what: `${JOBS} dead letters`, timeoutMs: 30_000 });
  await failing.stop();
  await using healthy = startTask("worker:echo", [], {
    ...env,
    CORTEX_WORKER_ID: "echo-heals",
    CORTEX_ECHO_FAIL_RATE: "0",
  });
  await healthy.waitFor(/taking job\.echo/, 60_000);

  await using browser = await launchChromium();
  const { page } = browser;
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(`${base}/`);
  await page.focus('[data-view-link="dead-letters"]');
  await page.keyboard.press("Enter");
  const group = page.locator(`[data-dl-group="${dead.groups[0].id}"]`);
  await group.waitFor({ timeout: 10_000 });
  assertEquals(
    await page.locator("[data-dl-total]").getAttribute("data-dl-total"),
    String(JOBS),
  );
  // Each attempt's worker is shown.
  assertOk((await group.innerText()).includes("echo-fails"));

  const found: Record<string, string[]> = {};
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    found[`dead letters (${scheme})`] = await violations(page);
    // The group's confirmation dialog, open.
    await group.locator("[data-dl-discard-group]").click();
    await page.locator("dialog[data-confirm]").waitFor();
    found[`confirm dialog (${scheme})`] = await violations(page);
    await page.screenshot({
      path: `${ROOT}/test-artifacts/dead-letters-${scheme}.png`,
    });
    await page.keyboard.press("Escape"); // cancels: nothing discarded
    await page.locator("dialog[data-confirm]").waitFor({ state: "detached" });
  }
  assertEquals(Object.entries(found).filter(([, v]) => v.length > 0), []);

  // Retry one job from the view: it completes on the healthy worker.
  const one = dead.groups[0].jobs[0].jobId;
  await page.locator(`[data-dl-retry="${one}"]`).focus();
  await page.keyboard.press("Enter");
  await eventually(async () => {
    const d = await json<JobDetail>(`${base}/api/jobs/${one}`);
    return d.state === "COMPLETED" || undefined;
  }, { what: `${one} completed after its retry`, timeoutMs: 30_000 });
  await page.locator(`[data-dl-job="${one}"]`).waitFor({
    state: "detached",
    timeout: 10_000,
  });

  // A bulk retry by the search's filter: status FAILED, on the failing
  // worker (every field of the search is part of a bulk filter).
  await page.focus('[data-view-link="search"]');
  await page.keyboard.press("Enter");
  await page.selectOption('select[name="status"]', "FAILED");
  await page.fill('input[name="worker"]', "echo-fails");
  await page.click('.search-form button[type="submit"]');
  await page.locator("[data-history-job]").first().waitFor({ timeout: 10_000 });
  const uses = await page.locator("[data-bulk-panel] p.muted").innerText();
  assertOk(
    uses.includes("status FAILED") && uses.includes("worker echo-fails"),
    `the panel names the filter: ${uses}`,
  );
  await page.click("[data-bulk-count]");
  const matched = page.locator("[data-bulk-matched]");
  await matched.waitFor({ timeout: 10_000 });
  assertEquals(
    await matched.getAttribute("data-bulk-matched"),
    String(JOBS - 1),
  );
  const failed = await json<JobsResponse>(
    `${base}/api/jobs?status=FAILED&worker=echo-fails`,
  );
  assertEquals(
    failed.jobs.length,
    JOBS - 1,
    "the dry run counts what the search finds",
  );
  // The progress must come over /api/events: the page may not read it.
  const progressReads: string[] = [];
  await page.route("**/api/bulk/**", (route) => {
    progressReads.push(route.request().url());
    return route.abort();
  });
  await page.click("[data-bulk-start]");
  const dialog = page.locator("dialog[data-confirm]");
  await dialog.waitFor();
  assertEquals(await dialog.getAttribute("role"), "alertdialog");
  // By keyboard: Cancel has the focus; Tab to the confirm button, Enter.
  assertEquals(
    await page.evaluate("document.activeElement.textContent"),
    "Cancel",
  );
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.locator('[data-bulk-state="finished"]').waitFor({
    timeout: 30_000,
  });
  const shown = await page.locator(".bulk-progress [role=status]").innerText();
  assertOk(
    shown.includes(`${JOBS - 1} of ${JOBS - 1} done`),
    `the pushed figures are shown: ${shown}`,
  );
  // At most the one read made before the stream told of it (and its
  // retries every 2 s): not a poll twice a second.
  assertOk(
    progressReads.length <= 3,
    `progress reads: ${progressReads.join(", ")}`,
  );
  assertEquals(
    await page.locator(".bulk-progress [role=alert]").count(),
    0,
    "a refused read is not shown once the stream has told",
  );
  await page.unroute("**/api/bulk/**");
  await eventually(async () => {
    const done = await json<JobsResponse>(`${base}/api/jobs?status=COMPLETED`);
    return done.jobs.length === JOBS || undefined;
  }, { what: "every job completed after the bulk retry", timeoutMs: 30_000 });
  assertEquals(
    (await json<DeadLettersResponse>(`${base}/api/dead-letters`)).total,
    0,
  );
  const audit = await json<{ entries: { action: string }[] }>(
    `${base}/api/audit`,
  );
  const actions = audit.entries.map((e) => e.action);
  for (
    const a of [
      "retry",
      "bulk retry dry run",
      "bulk retry",
      "bulk retry finished",
    ]
  ) {
    assertOk(actions.includes(a), `audit has ${a}: ${actions.join(", ")}`);
  }
  assertEquals(pageErrors, [], "no script error on the page");
});
