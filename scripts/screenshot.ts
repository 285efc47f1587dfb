/**
 * `deno task screenshot`: starts a small stack (nats-server, the scheduler,
 * three echo workers), pushes jobs through it, and saves the dashboard as
 * `docs/dashboard.png`, so the README's picture can be remade at any time,
 * and each operator's view as `docs/dashboard-<view>.png` (a pending job's
 * detail with its Cancel button, queues, search, dead letters, audit, a
 * worker). Durable mode, so that jobs failed by one worker
 * (`CORTEX_ECHO_FAIL_RATE`) are dead-lettered and listed.
 *
 * Needs nats-server and Chromium (`/usr/bin/chromium`, or CORTEX_CHROMIUM).
 * Runs with -A, because playwright-core probes its platform when it starts.
 *
 * @module
 */
import { ROOT } from "./permissions.ts";
import { launchChromium } from "./support/chromium.ts";
import { startNatsServer } from "./support/nats_server.ts";
import { freePort } from "./support/ports.ts";
import { runTask, startTask, type TaskProcess } from "./support/tasks.ts";

const OUT = `${ROOT}/docs/dashboard.png`;

async function submit(env: Record<string, string>, args: string[]) {
  const { code, stderr } = await runTask("submit", args, env);
  if (code === 2) throw new Error(stderr);
}

await using nats = await startNatsServer();
const dashPort = freePort();
const env = {
  NATS_URL: nats.url,
  CORTEX_HEARTBEAT_MS: "1000",
  CORTEX_ECHO_MIN_MS: "5",
  CORTEX_ECHO_MAX_MS: "60",
  CORTEX_DURABILITY: "jetstream",
};
type Page = Awaited<ReturnType<typeof launchChromium>>["page"];
const ONLINE = ["echo-eu-1", "echo-eu-2"];

/**
 * Drains the online workers from their rows, submits a job none of them will
 * take, photographs its detail with the Cancel button, cancels it, and
 * resumes the workers: the counters then count a cancelled job, and the
 * audit log holds a drain, a cancel and a resume.
 */
async function cancelOnePending(page: Page, env: Record<string, string>) {
  const row = (id: string) => page.locator(`tr[data-worker-id="${id}"]`);
  for (const id of ONLINE) {
    await row(id).locator('button[data-drain="drain"]').click();
    await page.locator(`tr[data-worker-id="${id}"][data-state="draining"]`)
      .waitFor();
  }
  await submit(env, ["--no-wait", "--payload", "waiting for a worker"]);
  // Durable mode: queued for a worker, it shows DISPATCHED.
  const job = page.locator(
    'tr[data-job-id][data-state="PENDING"], tr[data-job-id][data-state="DISPATCHED"]',
  ).first();
  await job.click();
  const cancel = page.locator(".detail button[data-cancel]");
  await cancel.waitFor();
  await new Promise((r) => setTimeout(r, 300));
  const path = `${ROOT}/docs/dashboard-job.png`;
  await page.screenshot({ path });
  console.log(`wrote ${path}`);
  const jobId = await job.getAttribute("data-job-id");
  await cancel.click();
  await page.locator(`tr[data-job-id="${jobId}"][data-state="CANCELLED"]`)
    .waitFor();
  await page.keyboard.press("Escape");
  for (const id of ONLINE) {
    await row(id).locator('button[data-drain="resume"]').click();
    await page.locator(`tr[data-worker-id="${id}"][data-state="online"]`)
      .waitFor();
  }
}

const processes: TaskProcess[] = [];
try {
  const scheduler = startTask("scheduler", [], {
    ...env,
    CORTEX_DASHBOARD_PORT: String(dashPort),
    // One attempt: a job the failing worker takes is dead-lettered.
    CORTEX_MAX_ATTEMPTS: "1",
  });
  processes.push(scheduler);
  await scheduler.waitFor(/dashboard listening on/, 30_000);
  const workerEnvs: Record<string, string>[] = [
    { CORTEX_WORKER_ID: "echo-eu-1", CORTEX_WORKER_REGION: "eu-west" },
    {
      CORTEX_WORKER_ID: "echo-eu-2",
      CORTEX_WORKER_REGION: "eu-west",
      CORTEX_WORKER_CONCURRENCY: "4",
    },
    {
      CORTEX_WORKER_ID: "echo-us-1",
      CORTEX_WORKER_REGION: "us-east",
      CORTEX_ECHO_FAIL_RATE: "0.3",
    },
  ];
  const workers = workerEnvs.map((w) =>
    startTask("worker:echo", [], { ...env, ...w })
  );
  processes.push(...workers);
  for (const w of workers) await w.waitFor(/taking job\.echo/, 30_000);

  // A minute's worth of traffic, compressed: bursts of varying size, one
  // denied job, and a worker that leaves.
  const sizes = [20, 60, 35, 90, 50, 120, 70, 40];
  for (const [i, count] of sizes.entries()) {
    await submit(env, [
      "--count",
      String(count),
      "--concurrency",
      "8",
      "--payload",
      `batch ${i}`,
    ]);
    if (i === 3) await submit(env, ["--topic", "sys.destroy"]);
    if (i === 5) await workers[2].stop();
    await new Promise((r) => setTimeout(r, 600));
  }

  await using browser = await launchChromium({ colorScheme: "light" });
  const page = browser.page;
  await page.goto(`http://127.0.0.1:${dashPort}/`);
  await page.locator('[data-connection="live"]').waitFor();
  await page.locator("tr[data-job-id]").first().waitFor();
  await submit(env, ["--count", "30", "--concurrency", "4"]);
  await submit(env, ["--topic", "sys.destroy", "--payload", "rm -rf /"]);
  await cancelOnePending(page, env);
  // A fresh page: the rows' notes from the actions above are not kept.
  await page.reload();
  await page.locator('[data-connection="live"]').waitFor();
  await page.locator("tr[data-job-id]").first().waitFor();
  await page.fill('textarea[name="payload"]', "from the dashboard");
  await page.fill('input[name="count"]', "3");
  await page.click('button[type="submit"]');
  await page.locator("[data-submit-result]").waitFor();
  await new Promise((r) => setTimeout(r, 1200));
  await Deno.mkdir(`${ROOT}/docs`, { recursive: true });
  await page.screenshot({ path: OUT });
  console.log(`wrote ${OUT}`);

  const views: [string, string, string][] = [
    ["queues", "#queues", '[data-queue="job.echo"] svg'],
    ["search", "#search", "[data-history-job]"],
    ["dead-letters", "#dead-letters", "[data-dl-group]"],
    ["audit", "#audit", '[data-audit-action="submit"]'],
    ["worker", "#worker/echo-eu-1", "[data-history-job]"],
  ];
  for (const [name, hash, ready] of views) {
    await page.goto(`http://127.0.0.1:${dashPort}/${hash}`);
    await page.locator(ready).first().waitFor();
    if (name === "search") {
      await page.fill('input[name="text"]', "batch 3");
      await page.click('button[type="submit"]');
      await page.locator("[data-history-job]").first().waitFor();
      await new Promise((r) => setTimeout(r, 500));
    }
    const path = `${ROOT}/docs/dashboard-${name}.png`;
    await page.mouse.move(0, 0); // no row highlighted under a resting pointer
    await page.screenshot({ path });
    console.log(`wrote ${path}`);
  }
} finally {
  for (const p of processes.reverse()) await p.stop();
}
