/**
 * `deno task screenshot`: starts a small stack (nats-server, the scheduler,
 * three echo workers), pushes jobs through it, and saves the dashboard as
 * `docs/dashboard.png`, so the README's picture can be remade at any time.
 *
 * Needs nats-server and Chromium (`/usr/bin/chromium`, or CORTEX_CHROMIUM).
 * Runs with -A, because playwright-core probes its platform when it starts.
 *
 * @module
 */
import { chromium } from "playwright-core";
import { ROOT } from "./permissions.ts";

const OUT = `${ROOT}/docs/dashboard.png`;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A background process whose output is kept, to show when it fails. */
function spawn(command: string, args: string[], env: Record<string, string>) {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output.push(decoder.decode(chunk));
  };
  const done = Promise.all([collect(child.stdout), collect(child.stderr)]);
  return {
    output,
    async waitFor(pattern: RegExp, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output.join(""))) {
        if (Date.now() > deadline) {
          throw new Error(
            `${command} ${
              args.join(" ")
            }: no ${pattern} within ${timeoutMs} ms:\n${output.join("")}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
      await done;
    },
  };
}

async function submit(env: Record<string, string>, args: string[]) {
  const { code, stderr } = await new Deno.Command("deno", {
    args: ["task", "-q", "submit", ...args],
    cwd: ROOT,
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code === 2) throw new Error(new TextDecoder().decode(stderr));
}

const natsPort = freePort();
const dashPort = freePort();
const nats = spawn(
  "nats-server",
  ["-a", "127.0.0.1", "-p", String(natsPort)],
  {},
);
const env = {
  NATS_URL: `nats://127.0.0.1:${natsPort}`,
  CORTEX_HEARTBEAT_MS: "1000",
  CORTEX_ECHO_MIN_MS: "5",
  CORTEX_ECHO_MAX_MS: "60",
};
const processes = [nats];
try {
  await nats.waitFor(/Server is ready/);
  const scheduler = spawn("deno", ["task", "-q", "scheduler"], {
    ...env,
    CORTEX_DASHBOARD_PORT: String(dashPort),
  });
  processes.push(scheduler);
  await scheduler.waitFor(/dashboard listening on/);
  const workerEnvs: Record<string, string>[] = [
    { CORTEX_WORKER_ID: "echo-eu-1", CORTEX_WORKER_REGION: "eu-west" },
    {
      CORTEX_WORKER_ID: "echo-eu-2",
      CORTEX_WORKER_REGION: "eu-west",
      CORTEX_WORKER_CONCURRENCY: "4",
    },
    { CORTEX_WORKER_ID: "echo-us-1", CORTEX_WORKER_REGION: "us-east" },
  ];
  const workers = workerEnvs.map((w) =>
    spawn("deno", ["task", "-q", "worker:echo"], { ...env, ...w })
  );
  processes.push(...workers);
  for (const w of workers) await w.waitFor(/taking job\.echo/);

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

  const profile = await Deno.makeTempDir({ prefix: "cortex-screenshot-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: Deno.env.get("CORTEX_CHROMIUM") ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 720 },
    colorScheme: "light",
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    await page.goto(`http://127.0.0.1:${dashPort}/`);
    await page.locator('[data-connection="live"]').waitFor();
    await page.locator("tr[data-job-id]").first().waitFor();
    await submit(env, ["--count", "30", "--concurrency", "4"]);
    await submit(env, ["--topic", "sys.destroy", "--payload", "rm -rf /"]);
    await page.fill('textarea[name="payload"]', "from the dashboard");
    await page.fill('input[name="count"]', "3");
    await page.click('button[type="submit"]');
    await page.locator("[data-submit-result]").waitFor();
    await new Promise((r) => setTimeout(r, 1200));
    await Deno.mkdir(`${ROOT}/docs`, { recursive: true });
    await page.screenshot({ path: OUT });
    console.log(`wrote ${OUT}`);
  } finally {
    await context.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
} finally {
  for (const p of processes.reverse()) await p.stop();
}
