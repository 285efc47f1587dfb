import denoJson from "../../deno.json" with { type: "json" };
import { DEV_ENV_NAMES, DEV_NKEYS_DIR } from "../../scripts/dev_config.ts";
import {
  LAUNCH_ENV_NAMES,
  permissionFlags,
} from "../../scripts/permissions.ts";
import {
  heldPermissions,
  PERMISSION_KINDS,
} from "../../src/held_permissions.ts";
import { assertEquals, assertOk } from "../assert.ts";

const tasks: Record<string, string> = denoJson.tasks;

/** Playwright needs -A (its WSL probe): browser tests and screenshots only. */
const BROWSER = /tests\/browser\/|scripts\/screenshot\.ts/;

Deno.test("permissions: no task runs with -A or --allow-all, except browser tests", () => {
  for (const [name, command] of Object.entries(tasks)) {
    for (const step of command.split(/&&|\|\||;/)) {
      if (BROWSER.test(step)) continue;
      assertOk(
        !/(^|\s)(-A|--allow-all)(\s|$)/.test(step),
        `task ${name} must not use -A: ${step.trim()}`,
      );
    }
  }
});

Deno.test("permissions: the dev task may read exactly the variables dev reads, and only its nkeys", () => {
  const flag = /--allow-env=(\S+)/.exec(tasks.dev)?.[1];
  assertEquals(flag?.split(",").sort(), [...DEV_ENV_NAMES].sort());
  assertOk(tasks.dev.includes("--allow-run=deno,nats-server "));
  assertOk(tasks.dev.includes("--allow-net=127.0.0.1 "));
  assertOk(
    tasks.dev.includes(
      `--allow-read=${DEV_NKEYS_DIR} --allow-write=${DEV_NKEYS_DIR} `,
    ),
    tasks.dev,
  );
  assertEquals(tasks.dev.match(/--allow-(read|write)/g)?.length, 2);
  assertOk(!/--allow-(ffi|sys)/.test(tasks.dev), tasks.dev);
});

Deno.test("permissions: the launcher tasks may read exactly the variables launch.ts reads", () => {
  for (const task of ["scheduler", "worker:echo", "submit"]) {
    const flag = /--allow-env=(\S+) \S*\s*--allow-run=deno scripts\/launch\.ts/
      .exec(tasks[task])?.[1];
    assertEquals(flag?.split(",").sort(), [...LAUNCH_ENV_NAMES].sort(), task);
  }
});

Deno.test("permissions: only the scheduler may read, nobody may write, run, use FFI or sys", () => {
  const env = {
    natsUrl: "nats://127.0.0.1:4222",
    dashboard: true,
    dashboardHost: "127.0.0.1",
    dashboardPort: 8080,
  };
  for (const process of ["scheduler", "worker:echo", "submit"] as const) {
    const flags = permissionFlags(process, env).join(" ");
    assertOk(flags.includes("--no-prompt"), flags);
    assertOk(!/--allow-(write|run|ffi|sys|all)/.test(flags), flags);
    assertOk(process === "scheduler" || !flags.includes("--allow-read"), flags);
  }
});

Deno.test("permissions: a process without permissions holds none", async () => {
  const held = await heldPermissions({
    net: ["127.0.0.1:4222"],
    env: ["NATS_URL"],
    read: ["/etc/hostname"],
  });
  assertEquals(
    held,
    Object.fromEntries(PERMISSION_KINDS.map((kind) => [kind, "none"])),
  );
});

Deno.test("permissions: an IPv6 dashboard address is bracketed, so Deno can parse it", () => {
  const net = (dashboardHost: string, dashboardPort: number) =>
    /--allow-net=(\S+)/.exec(
      permissionFlags("scheduler", {
        natsUrl: "nats://127.0.0.1:4222",
        dashboard: true,
        dashboardHost,
        dashboardPort,
      }).join(" "),
    )?.[1].split(",").slice(1);
  assertEquals(net("::1", 8080), ["[::1]:8080"]);
  assertEquals(net("::1", 0), ["[::1]"]);
  assertEquals(net("::", 8080), ["[::]:8080"]);
  assertEquals(net("127.0.0.1", 8080), ["127.0.0.1:8080"]);
});
