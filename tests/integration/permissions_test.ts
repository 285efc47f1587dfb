/**
 * Least privilege, proved from outside: a probe run with exactly the flags
 * `permissionFlags()` gives each process is denied what that process must
 * not do, and the real processes, started through `deno task`, still work.
 */
import {
  DASHBOARD_DIST,
  permissionFlags,
  type ProcessName,
  ROOT,
} from "../../scripts/permissions.ts";
import { assertEquals, assertMatch } from "../assert.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { freePort } from "../../scripts/support/ports.ts";
import { runTask, startTask } from "../processes.ts";

const PROBE = `${ROOT}/tests/permission_probe.ts`;

/** Runs the probe with `process`'s flags; returns target → allowed/denied. */
async function probe(
  process: ProcessName,
  natsUrl: string,
  dashboardPort: number,
  targets: string[],
): Promise<Record<string, string>> {
  const flags = permissionFlags(process, {
    natsUrl,
    dashboard: true,
    dashboardHost: "127.0.0.1",
    dashboardPort,
  });
  const { code, stdout, stderr } = await new Deno.Command("deno", {
    args: ["run", ...flags, PROBE, ...targets],
    cwd: ROOT,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  assertEquals(code, 0, `probe failed: ${text.decode(stderr)}`);
  return JSON.parse(text.decode(stdout));
}

Deno.test("permissions: the worker may reach only its NATS server and its own variables", async () => {
  await using nats = await startNatsServer();
  const other = freePort();
  const held = await probe("worker:echo", nats.url, 8080, [
    `net:127.0.0.1:${nats.port}`,
    `net:127.0.0.1:${other}`,
    `net:127.0.0.2:${nats.port}`,
    "net:127.0.0.1:8080",
    "read:/etc/hostname",
    `read:${ROOT}/deno.json`,
    `write:${Deno.makeTempDirSync()}/x`,
    "env:NATS_URL",
    "env:HOME",
    "run:true",
    "run:deno",
  ]);
  assertEquals(held, {
    [`net:127.0.0.1:${nats.port}`]: "allowed",
    [`net:127.0.0.1:${other}`]: "denied",
    [`net:127.0.0.2:${nats.port}`]: "denied",
    "net:127.0.0.1:8080": "denied",
    "read:/etc/hostname": "denied",
    [`read:${ROOT}/deno.json`]: "denied",
    [Object.keys(held).find((k) => k.startsWith("write:"))!]: "denied",
    "env:NATS_URL": "allowed",
    "env:HOME": "denied",
    "run:true": "denied",
    "run:deno": "denied",
  });
});

Deno.test("permissions: the scheduler may not run a subprocess, read beyond the dashboard's assets and its history, or write beyond its history", async () => {
  await using nats = await startNatsServer();
  const dashboardPort = freePort();
  const other = freePort();
  const tmp = Deno.makeTempDirSync();
  const held = await probe("scheduler", nats.url, dashboardPort, [
    "run:true",
    "run:deno",
    "run:nats-server",
    "read:/etc/hostname",
    `read:${DASHBOARD_DIST}/index.html`,
    `write:${tmp}/x`,
    `write:${ROOT}/.data/history/scheduler.sqlite`,
    `read:${ROOT}/.data/history/scheduler.sqlite`,
    `write:${ROOT}/.data/nkeys/x`,
    `net:127.0.0.1:${nats.port}`,
    `net:127.0.0.1:${dashboardPort}`,
    `net:127.0.0.1:${other}`,
    "env:CORTEX_SAFETY_DENY",
    "env:HOME",
  ]);
  assertEquals(held, {
    "run:true": "denied",
    "run:deno": "denied",
    "run:nats-server": "denied",
    "read:/etc/hostname": "denied",
    [`read:${DASHBOARD_DIST}/index.html`]: "allowed",
    [`write:${tmp}/x`]: "denied",
    [`write:${ROOT}/.data/history/scheduler.sqlite`]: "allowed",
    [`read:${ROOT}/.data/history/scheduler.sqlite`]: "allowed",
    [`write:${ROOT}/.data/nkeys/x`]: "denied",
    [`net:127.0.0.1:${nats.port}`]: "allowed",
    [`net:127.0.0.1:${dashboardPort}`]: "allowed",
    [`net:127.0.0.1:${other}`]: "denied",
    "env:CORTEX_SAFETY_DENY": "allowed",
    "env:HOME": "denied",
  });
});

Deno.test("permissions: the submit CLI may reach only NATS", async () => {
  await using nats = await startNatsServer();
  const other = freePort();
  const held = await probe("submit", nats.url, 8080, [
    `net:127.0.0.1:${nats.port}`,
    `net:127.0.0.1:${other}`,
    "read:/etc/hostname",
    "run:true",
  ]);
  assertEquals(held, {
    [`net:127.0.0.1:${nats.port}`]: "allowed",
    [`net:127.0.0.1:${other}`]: "denied",
    "read:/etc/hostname": "denied",
    "run:true": "denied",
  });
});

Deno.test("permissions: the scoped processes, started through deno task, still run a job and report what they hold", async () => {
  await using nats = await startNatsServer();
  // A worker given NATS by host name: its flags must allow the DNS lookup.
  const env = {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD: "off",
    CORTEX_ECHO_MIN_MS: "0",
    CORTEX_ECHO_MAX_MS: "0",
  };
  await using scheduler = startTask("scheduler", [], env);
  await using worker = startTask("worker:echo", [], {
    ...env,
    NATS_URL: `nats://localhost:${nats.port}`,
  });
  await scheduler.waitFor(/serving sys\.job\.submit/, 30_000);
  await worker.waitFor(/taking job\.echo/, 30_000);

  const held = await worker.waitFor(/permissions held:/);
  assertMatch(
    held,
    new RegExp(
      `read=none write=none net=localhost:${nats.port} env=NATS_URL,\\S+ run=none ffi=none sys=none`,
    ),
  );
  assertMatch(
    await scheduler.waitFor(/permissions held:/),
    new RegExp(
      `write=none net=127\\.0\\.0\\.1:${nats.port} .*run=none ffi=none sys=none`,
    ),
  );

  const submit = await runTask("submit", ["--count", "3", "--timeout", "30s"], {
    NATS_URL: nats.url,
  });
  assertEquals(submit.code, 0, submit.stdout + submit.stderr);
  assertMatch(submit.stdout, /COMPLETED/);
});
