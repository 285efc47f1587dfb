import denoJson from "../../deno.json" with { type: "json" };
import { DEV_ENV_NAMES, DEV_NKEYS_DIR } from "../../scripts/dev_config.ts";
import {
  DASHBOARD_DIST,
  denoArgs,
  LAUNCH_ENV_NAMES,
  launchEnv,
  parseWorkerDeclaration,
  permissionFlags,
  ROOT,
  WorkerDeclarationError,
} from "../../scripts/permissions.ts";
import {
  heldPermissions,
  PERMISSION_KINDS,
} from "../../src/held_permissions.ts";
import { assertEquals, assertOk, assertThrows } from "../assert.ts";

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

Deno.test("permissions: only the scheduler may read, and write only its history folder; nobody may run, use FFI or sys", () => {
  const env = {
    natsUrl: "nats://127.0.0.1:4222",
    dashboard: true,
    dashboardHost: "127.0.0.1",
    dashboardPort: 8080,
  };
  for (const process of ["scheduler", "worker:echo", "submit"] as const) {
    const flags = permissionFlags(process, env).join(" ");
    assertOk(flags.includes("--no-prompt"), flags);
    assertOk(!/--allow-(run|ffi|sys|all)/.test(flags), flags);
    assertOk(process === "scheduler" || !flags.includes("--allow-read"), flags);
    assertOk(
      process === "scheduler"
        ? flags.includes("--allow-write=.data/history ")
        : !flags.includes("--allow-write"),
      flags,
    );
  }
  const scheduler = (extra: Partial<typeof env & { historyDir: string }>) =>
    permissionFlags("scheduler", { ...env, ...extra });
  // The history folder is read and written (SQLite opens its file for
  // both), follows CORTEX_HISTORY_DIR, and goes with the dashboard.
  assertEquals(
    scheduler({ historyDir: "/var/lib/cortex/history" }).filter((f) =>
      /--allow-(read|write)/.test(f)
    ),
    [
      `--allow-read=${DASHBOARD_DIST},/var/lib/cortex/history`,
      "--allow-write=/var/lib/cortex/history",
    ],
  );
  assertOk(
    !scheduler({ dashboard: false }).some((f) =>
      /--allow-(read|write)/.test(f)
    ),
  );
  assertEquals(
    launchEnv((n) => n === "CORTEX_HISTORY_DIR" ? "/h" : undefined)
      .historyDir,
    "/h",
  );
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

Deno.test("permissions: the worker task may read exactly launch.ts's variables and INIT_CWD", () => {
  const flag = /--allow-env=(\S+) --allow-run=deno scripts\/launch\.ts worker$/
    .exec(tasks.worker)?.[1];
  assertEquals(
    flag?.split(",").sort(),
    [...LAUNCH_ENV_NAMES, "INIT_CWD"].sort(),
  );
});

Deno.test("permissions: a worker file's header declares what it gets beyond the bus", () => {
  const env = {
    natsUrl: "nats://127.0.0.1:4222",
    dashboard: true,
    dashboardHost: "127.0.0.1",
    dashboardPort: 8080,
  };
  const flagOf = (flags: string[], kind: string) =>
    flags.find((f) => f.startsWith(`--allow-${kind}=`))?.split("=")[1]
      .split(",");
  // Nothing declared: the bus and the worker settings only.
  const bare = permissionFlags("worker", env, ["/w/sha.ts"]);
  assertEquals(flagOf(bare, "net"), ["127.0.0.1:4222"]);
  assertOk(!/--allow-(read|write|run|ffi|sys|all)/.test(bare.join(" ")));
  assertOk(flagOf(bare, "env")!.includes("NATS_URL"));
  assertOk(flagOf(bare, "env")!.includes("CORTEX_WORKER_DECLARED"));

  const declared = parseWorkerDeclaration(
    [
      "#!/usr/bin/env -S deno run",
      "// A checker.",
      '// @cortex-permissions {"net": ["example.com:443"], "read": ["./data", "/etc/x"], "write": ["out"], "env": ["API_KEY"]}',
      'import { connect } from "/p/mod.ts";',
      '// @cortex-permissions {"net": ["ignored:1"]}',
    ].join("\n"),
    "/w",
  );
  assertEquals(declared, {
    net: ["example.com:443"],
    read: ["/w/data", "/etc/x"],
    write: ["/w/out"],
    env: ["API_KEY"],
  });
  const flags = permissionFlags(
    "worker",
    {
      ...env,
      credentialFiles: ["/c/user.creds"],
    },
    ["/w/check.ts"],
    declared,
  );
  assertEquals(flagOf(flags, "net"), ["127.0.0.1:4222", "example.com:443"]);
  assertEquals(flagOf(flags, "read"), ["/c/user.creds", "/w/data", "/etc/x"]);
  assertEquals(flagOf(flags, "write"), ["/w/out"]);
  assertOk(flagOf(flags, "env")!.includes("API_KEY"));
  assertOk(!/--allow-(run|ffi|sys|all)/.test(flags.join(" ")));

  const args = denoArgs("worker", env, ["/w/check.ts", "--x"], declared);
  assertEquals(args.slice(-4), [
    `--config=${ROOT}/deno.json`,
    `--preload=${ROOT}/src/bin/worker_file.ts`,
    "/w/check.ts",
    "--x",
  ]);
  assertEquals(parseWorkerDeclaration("const x = 1;\n", "/w"), {});
});

Deno.test("permissions: a bad worker declaration is refused with a clear message", () => {
  const bad: [string, RegExp][] = [
    ["// @cortex-permissions {net: 1}", /not JSON/],
    ['// @cortex-permissions ["a"]', /expected a JSON object/],
    ['// @cortex-permissions {"run": ["curl"]}', /unknown key "run"/],
    ['// @cortex-permissions {"net": "a:1"}', /net must be a list/],
    ['// @cortex-permissions {"net": ["a:1,b:2"]}', /without commas/],
    [
      '// @cortex-permissions {}\n// @cortex-permissions {"net": []}',
      /appears twice/,
    ],
  ];
  for (const [text, message] of bad) {
    assertThrows(() => parseWorkerDeclaration(text, "/w"), message);
    try {
      parseWorkerDeclaration(text, "/w");
    } catch (error) {
      assertOk(error instanceof WorkerDeclarationError, String(error));
    }
  }
});
