/**
 * The operator's views in a real browser (Debian's Chromium) against real
 * processes: nats-server, `deno task scheduler`, `deno task worker:echo`,
 * `deno task submit`, in core and durable mode.
 */
import { assertEquals, assertOk, eventually } from "../assert.ts";
import { launchChromium } from "../../scripts/support/chromium.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { freePort } from "../../scripts/support/ports.ts";
import { runTask, startTask } from "../processes.ts";
import { ROOT } from "../../scripts/permissions.ts";

for (const durability of ["none", "jetstream"]) {
  Deno.test(`the queues view shows each topic's figures and charts, pushed live (CORTEX_DURABILITY=${durability})`, async () => {
    await using nats = await startNatsServer();
    const port = freePort();
    const env = {
      NATS_URL: nats.url,
      CORTEX_DURABILITY: durability,
      CORTEX_HEARTBEAT_MS: "500",
      CORTEX_ECHO_MIN_MS: "5",
      CORTEX_ECHO_MAX_MS: "20",
    };
    await using scheduler = startTask("scheduler", [], {
      ...env,
      CORTEX_DASHBOARD_PORT: String(port),
    });
    await scheduler.waitFor(/dashboard listening on/, 60_000);
    await using worker = startTask("worker:echo", [], {
      ...env,
      CORTEX_WORKER_ID: `echo-queues-${durability}`,
    });
    await worker.waitFor(/taking job\.echo/, 60_000);

    await using browser = await launchChromium();
    const { page } = browser;
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`http://127.0.0.1:${port}/#queues`);
    await page.locator('[data-view="queues"]').waitFor({ timeout: 10_000 });
    assertEquals(
      await page.locator('[data-view-link="queues"]').getAttribute(
        "aria-current",
      ),
      "page",
    );

    await Deno.mkdir(`${ROOT}/test-artifacts`, { recursive: true });
    const shot = `${ROOT}/test-artifacts/queues-${durability}.png`;
    try {
      const submit = await runTask("submit", ["--count", "40"], env);
      assertEquals(submit.code, 0, submit.stderr);
      // No reload: the figures arrive over the event stream.
      const panel = page.locator('[data-queue="job.echo"]');
      await panel.locator('[data-figure="done"]').getByText("40").waitFor({
        timeout: 20_000,
      });
      assertEquals(
        await panel.locator('[data-figure="workers"]').innerText(),
        "1",
      );
      assertEquals(
        await panel.locator('[data-figure="failure-rate"]').innerText(),
        "0.0 %",
      );
      const run = await panel.locator('[data-figure="run"]').innerText();
      assertOk(/ms/.test(run), `run time shown: ${run}`);
      // The charts are drawn as SVG, with a text alternative.
      await panel.locator('svg[data-chart="throughput"] rect').first().waitFor({
        timeout: 20_000,
      });
      const label = await panel.locator('svg[data-chart="throughput"]')
        .getAttribute("aria-label");
      assertOk(label?.includes("40 jobs ended"), label ?? "no label");
      // A line of zero height is not "visible" to Playwright: attached.
      await panel.locator('svg[data-chart="wait"] path.wait-p95[d^="M"]')
        .waitFor({ state: "attached", timeout: 20_000 });

      // A narrow window: the panel fits, nothing overflows sideways.
      await page.setViewportSize({ width: 420, height: 800 });
      await panel.waitFor();
      const overflow = await page.evaluate<number>(
        "document.documentElement.scrollWidth - innerWidth",
      );
      assertOk(overflow <= 0, `the page is ${overflow} px too wide`);
      await page.setViewportSize({ width: 1280, height: 720 });
    } finally {
      await page.screenshot({ path: shot });
    }
    assertEquals(pageErrors, [], "no script error on the page");
  });
}

Deno.test("search through history finds a job by payload text after a scheduler restart, pages by cursor, and a worker's detail lists its jobs and errors (durable)", async () => {
  await using nats = await startNatsServer();
  const port = freePort();
  const env = {
    NATS_URL: nats.url,
    CORTEX_DURABILITY: "jetstream",
    CORTEX_HEARTBEAT_MS: "500",
    CORTEX_ECHO_MIN_MS: "0",
    CORTEX_ECHO_MAX_MS: "0",
  };
  const schedulerEnv = {
    ...env,
    CORTEX_DASHBOARD_PORT: String(port),
    CORTEX_MAX_ATTEMPTS: "1",
  };
  const first = startTask("scheduler", [], schedulerEnv);
  await first.waitFor(/dashboard listening on/, 60_000);

  // A worker that fails every job, for one job: it dead-letters there.
  const failing = startTask("worker:echo", [], {
    ...env,
    CORTEX_WORKER_ID: "echo-fails",
    CORTEX_ECHO_FAIL_RATE: "1",
  });
  await failing.waitFor(/taking job\.echo/, 60_000);
  const doomed = await runTask(
    "submit",
    ["--json", "--payload", "doomed"],
    env,
  );
  const doomedId = JSON.parse(doomed.stdout.split("\n")[0]).job_id as string;
  assertOk(doomedId, doomed.stdout + doomed.stderr);
  await failing.stop();

  await using worker = startTask("worker:echo", [], {
    ...env,
    CORTEX_WORKER_ID: "echo-history",
  });
  await worker.waitFor(/taking job\.echo/, 60_000);
  const needle = await runTask(
    "submit",
    ["--json", "--payload", "find the needle 42"],
    env,
  );
  assertEquals(needle.code, 0, needle.stderr);
  const needleId = JSON.parse(needle.stdout.split("\n")[0]).job_id as string;
  const hay = await runTask(
    "submit",
    ["--count", "60", "--concurrency", "20", "--payload", "hay"],
    env,
  );
  assertEquals(hay.code, 0, hay.stderr);

  // The scheduler restarts: the history comes back from the ledger.
  await first.stop();
  await using scheduler = startTask("scheduler", [], schedulerEnv);
  await scheduler.waitFor(/dashboard listening on/, 60_000);

  await using browser = await launchChromium();
  const { page } = browser;
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(`http://127.0.0.1:${port}/#search`);
  await Deno.mkdir(`${ROOT}/test-artifacts`, { recursive: true });
  try {
    await page.locator('[data-history-size="62"]').waitFor({
      timeout: 20_000,
    });
    await page.fill('input[name="text"]', "NEEDLE 42");
    await page.press('input[name="text"]', "Enter");
    await page.locator(`[data-history-job="${needleId}"]`).waitFor({
      timeout: 10_000,
    });
    assertEquals(await page.locator("[data-history-job]").count(), 1);

    // Every job, 50 a page: the second page has the other 12.
    await page.click('button:text("Clear")');
    await page.locator("[data-history-job]").nth(49).waitFor({
      timeout: 10_000,
    });
    await page.click('button:text("Next page")');
    await page.locator('[data-page="2"]').waitFor({ timeout: 10_000 });
    // Polled from here: the dashboard's CSP (no unsafe-eval) refuses the
    // string predicates page.waitForFunction would evaluate in the page.
    await eventually(
      async () => (await page.locator("[data-history-job]").count()) === 12,
      { what: "the second page's 12 jobs" },
    );
    await page.click('button:text("Previous page")');
    await page.locator('[data-page="1"]').waitFor({ timeout: 10_000 });

    // The job's detail opens from a result, read from the ledger.
    await page.fill('input[name="text"]', "doomed");
    await page.click('button[type="submit"]');
    const row = page.locator(`[data-history-job="${doomedId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.locator("button").click();
    await page.locator(".detail").waitFor({ timeout: 10_000 });
    await page.click('.detail button[aria-label="close"]');

    // A narrow window: the search form and results do not overflow sideways.
    await page.setViewportSize({ width: 420, height: 800 });
    const overflow = await page.evaluate<number>(
      "document.documentElement.scrollWidth - innerWidth",
    );
    assertOk(overflow <= 0, `the search page is ${overflow} px too wide`);
    await page.setViewportSize({ width: 1280, height: 720 });

    // The failing worker is gone; its detail still lists the job and why it failed.
    await page.goto(`http://127.0.0.1:${port}/#worker/echo-fails`);
    await page.locator(`[data-worker-error="${doomedId}"]`).waitFor({
      timeout: 10_000,
    });
    await page.locator(
      `[data-worker-detail="echo-fails"] [data-history-job="${doomedId}"]`,
    ).waitFor({ timeout: 10_000 });

    // From a worker's row on the overview, by keyboard.
    await page.goto(`http://127.0.0.1:${port}/#`);
    const link = page.locator(
      'tr[data-worker-id="echo-history"] a[href="#worker/echo-history"]',
    );
    await link.waitFor({ timeout: 10_000 });
    await link.focus();
    await page.keyboard.press("Enter");
    await page.locator('[data-worker-detail="echo-history"]').waitFor({
      timeout: 10_000,
    });
    // 61 jobs: the needle, its first, is on the second page.
    await page.locator("[data-history-job]").nth(49).waitFor({
      timeout: 10_000,
    });
    await page.click('button:text("Next page")');
    await page.locator(`[data-history-job="${needleId}"]`).waitFor({
      timeout: 10_000,
    });
  } finally {
    await page.screenshot({ path: `${ROOT}/test-artifacts/search.png` });
  }
  assertEquals(pageErrors, [], "no script error on the page");
});
