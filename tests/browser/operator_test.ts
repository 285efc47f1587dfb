/**
 * The operator's views in a real browser (Debian's Chromium) against real
 * processes: nats-server, `deno task scheduler`, `deno task worker:echo`,
 * `deno task submit`, in core and durable mode.
 */
import { assertEquals, assertOk } from "../assert.ts";
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
    } finally {
      await page.screenshot({ path: shot });
    }
    assertEquals(pageErrors, [], "no script error on the page");
  });
}
