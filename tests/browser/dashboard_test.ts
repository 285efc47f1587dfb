/**
 * The dashboard in a real browser (Debian's Chromium) against real
 * processes: nats-server, `deno task scheduler`, `deno task worker:echo`.
 */
import { assertEquals, assertOk } from "../assert.ts";
import { launchChromium } from "../../scripts/support/chromium.ts";
import { descendantPid } from "../../scripts/support/process_tree.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { freePort } from "../../scripts/support/ports.ts";
import { runTask, startTask } from "../processes.ts";
import { ROOT } from "../../scripts/permissions.ts";

const XSS = "<img src=x onerror=alert(1)>";

Deno.test("the dashboard shows workers and jobs live, safely, in Chromium", async (t) => {
  await using nats = await startNatsServer();
  const port = freePort();
  // Beats every 500 ms: stale after 2 missed (1 s), offline after 5 (2.5 s),
  // so a dead worker changes state within seconds.
  const env = {
    NATS_URL: nats.url,
    CORTEX_HEARTBEAT_MS: "500",
    CORTEX_ECHO_MIN_MS: "0",
    CORTEX_ECHO_MAX_MS: "0",
  };
  await using scheduler = startTask("scheduler", [], {
    ...env,
    CORTEX_DASHBOARD_PORT: String(port),
    CORTEX_WORKER_STALE_BEATS: "2",
    CORTEX_WORKER_OFFLINE_BEATS: "5",
  });
  await scheduler.waitFor(/dashboard listening on/);
  await using worker = startTask("worker:echo", [], {
    ...env,
    CORTEX_WORKER_ID: "echo-browser-1",
  });
  await worker.waitFor(/taking job\.echo/);

  await using browser = await launchChromium();
  const { page } = browser;
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  // Console errors include CSP violations (e.g. an inline style or script).
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  await page.goto(`http://127.0.0.1:${port}/`);

  await t.step(
    "the worker's row appears, online, and the stream is live",
    async () => {
      const row = page.locator('tr[data-worker-id="echo-browser-1"]');
      await row.waitFor({ timeout: 10_000 });
      await page.locator(
        'tr[data-worker-id="echo-browser-1"][data-state="online"]',
      )
        .waitFor({ timeout: 10_000 });
      assertOk((await row.innerText()).includes("online"), "state in words");
      await page.locator('[data-connection="live"]').waitFor({
        timeout: 10_000,
      });
    },
  );

  await t.step(
    "a job from the form shows COMPLETED; its payload is text, never HTML",
    async () => {
      await page.fill('textarea[name="payload"]', XSS);
      await page.fill('input[name="count"]', "1");
      await page.click('button[type="submit"]');
      await page.locator("[data-submit-result]").waitFor({ timeout: 10_000 });
      assertEquals(
        await page.locator("[data-submit-result]").innerText(),
        "Dispatched 1 job.",
      );
      const row = page.locator(
        'tr[data-job-id^="web-"][data-state="COMPLETED"]',
      );
      await row.waitFor({ timeout: 10_000 });
      assertOk((await row.innerText()).includes("COMPLETED"));
      await row.click();
      const payload = page.locator(".detail [data-payload]");
      await payload.waitFor({ timeout: 10_000 });
      assertEquals(await payload.innerText(), XSS);
      assertEquals(await page.locator(".detail img").count(), 0);
      assertEquals(await page.locator("img[src=x]").count(), 0);
      // The form's default priority, as the job carries it.
      assertEquals(
        await page.locator(".detail [data-priority]").innerText(),
        "interactive",
      );
      await page.click('.detail button[aria-label="close"]');
    },
  );

  await t.step("a job from deno task submit shows COMPLETED", async () => {
    const submit = await runTask(
      "submit",
      ["--json", "--payload", "from the CLI"],
      env,
    );
    assertEquals(submit.code, 0, submit.stderr);
    const jobId = JSON.parse(submit.stdout.split("\n")[0]).job_id as string;
    assertOk(jobId, submit.stdout);
    const row = page.locator(
      `tr[data-job-id="${jobId}"][data-state="COMPLETED"]`,
    );
    await row.waitFor({ timeout: 10_000 });
    // Submitted without a priority: the job carries none, and the
    // scheduler applies no default; the detail says so in words.
    await row.click();
    const priority = page.locator(".detail [data-priority]");
    await priority.waitFor({ timeout: 10_000 });
    assertEquals(await priority.getAttribute("data-priority"), "UNSPECIFIED");
    assertEquals(await priority.innerText(), "none given");
    await page.click('.detail button[aria-label="close"]');
  });

  await t.step("a flood of jobs renders a bounded window of rows", async () => {
    const flood = await runTask(
      "submit",
      ["--count", "3000", "--concurrency", "200"],
      env,
    );
    assertEquals(flood.code, 0, flood.stderr);
    await page.locator('[data-counter="completed"]').getByText("3,002")
      .waitFor({ timeout: 20_000 });
    const rows = await page.locator("tr[data-job-id]").count();
    assertOk(rows > 0 && rows <= 200, `${rows} rows rendered`);
  });

  await t.step("a screenshot is kept as a test artifact", async () => {
    await Deno.mkdir(`${ROOT}/test-artifacts`, { recursive: true });
    await page.screenshot({ path: `${ROOT}/test-artifacts/dashboard.png` });
  });

  await t.step(
    "in a narrow window the page does not overflow sideways",
    async () => {
      await page.setViewportSize({ width: 420, height: 800 });
      await page.locator('tr[data-worker-id="echo-browser-1"]').waitFor();
      const overflow = await page.evaluate<number>(
        "document.documentElement.scrollWidth - innerWidth",
      );
      assertOk(overflow <= 0, `the page is ${overflow} px too wide`);
      await page.screenshot({
        path: `${ROOT}/test-artifacts/dashboard-narrow.png`,
        fullPage: true,
      });
      await page.setViewportSize({ width: 1280, height: 720 });
    },
  );

  await t.step("a worker that dies turns stale, then offline", async () => {
    const pid = await descendantPid(worker.pid, "src/bin/worker_echo.ts");
    assertOk(pid, "found the worker's deno process");
    Deno.kill(pid, "SIGKILL"); // no goodbye heartbeat: only silence
    await page.locator(
      'tr[data-worker-id="echo-browser-1"][data-state="stale"]',
    )
      .waitFor({ timeout: 10_000 });
    await page.locator(
      'tr[data-worker-id="echo-browser-1"][data-state="offline"]',
    ).waitFor({ timeout: 10_000 });
    await worker.status;
  });

  await t.step(
    "when the scheduler goes away, the indicator says reconnecting",
    async () => {
      await scheduler.stop();
      await page.locator('[data-connection="reconnecting"]').waitFor({
        timeout: 10_000,
      });
    },
  );

  assertEquals(dialogs, [], "no dialog may open");
  assertEquals(pageErrors, [], "no script error on the page");
});
