/**
 * `deno task dev`, run as a user runs it: ready line, a submitted job
 * completes, Ctrl-C leaves nothing behind, and the failure paths.
 *
 * Runs with CORTEX_DASHBOARD=off until the dashboard exists on this branch
 * (`src/dashboard/`); then the dashboard is on and `/healthz` is checked.
 */
import { ROOT } from "../../scripts/permissions.ts";
import {
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertOk,
  eventually,
} from "../assert.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { freePort } from "../../scripts/support/ports.ts";
import { eachLine } from "../../scripts/support/lines.ts";
import { runTask } from "../processes.ts";

const READY =
  /submit jobs: NATS_URL=(\S+)(?: NATS_NKEY=(\S+))? deno task submit/;
/** A nats-server process (not a command line merely mentioning one). */
const NATS_SERVER = /^\S*nats-server\s/;
const DASHBOARD_BUILT = await Deno.stat(`${ROOT}/src/dashboard`).then(
  () => true,
  () => false,
);

/** `deno task dev` in the background, its output collected line by line. */
interface Dev extends AsyncDisposable {
  child: Deno.ChildProcess;
  lines: string[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  status: Promise<Deno.CommandStatus>;
}

/**
 * Starts `deno task dev` with the test's environment minus NATS_URL and
 * CORTEX_NATS_SERVER, plus `env`.
 */
function startDev(env: Record<string, string> = {}): Dev {
  const base = Deno.env.toObject();
  delete base.NATS_URL;
  delete base.CORTEX_NATS_SERVER;
  const child = new Deno.Command("deno", {
    args: ["task", "-q", "dev"],
    cwd: ROOT,
    clearEnv: true,
    env: { ...base, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const verbose = Deno.env.get("CORTEX_TEST_VERBOSE");
  const collect = (line: string) => {
    lines.push(line);
    if (verbose) console.error(`[dev] ${line}`);
  };
  const output = Promise.all([
    eachLine(child.stdout, collect),
    eachLine(child.stderr, collect),
  ]);
  const status = child.status.then(async (s) => {
    await output;
    return s;
  });
  return {
    child,
    lines,
    status,
    async waitFor(pattern, timeoutMs = 30_000) {
      return await eventually(() => {
        for (const line of lines) {
          const match = pattern.exec(line);
          if (match) return match;
        }
        return undefined;
      }, {
        timeoutMs,
        what: `a line matching ${pattern}; output so far:\n${lines.join("\n")}`,
      });
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await status;
    },
  };
}

interface ProcessInfo {
  ppid: number;
  /** `ps` state: Z for a zombie. */
  state: string;
  args: string;
}

/** Every process on the machine, from `ps` (Deno may not read /proc without -A). */
function processTable(): Map<number, ProcessInfo> {
  const { stdout } = new Deno.Command("ps", {
    args: ["-e", "-o", "pid=,ppid=,stat=,args="],
  }).outputSync();
  const table = new Map<number, ProcessInfo>();
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (m) {
      table.set(Number(m[1]), { ppid: Number(m[2]), state: m[3], args: m[4] });
    }
  }
  return table;
}

/** Every process below `pid`, depth first. */
function descendants(pid: number): number[] {
  const table = processTable();
  const out: number[] = [];
  const walk = (parent: number) => {
    for (const [child, info] of table) {
      if (info.ppid !== parent) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/** The command line of `pid`, or undefined once it has exited. */
function commandLine(pid: number): string | undefined {
  const info = processTable().get(pid);
  return info && !info.state.startsWith("Z") ? info.args : undefined;
}

const alive = (pids: number[]) => pids.filter((p) => commandLine(p));

/** The environment for a dev run: its own dashboard port, dashboard off until built. */
function devEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    CORTEX_DASHBOARD: DASHBOARD_BUILT ? "on" : "off",
    CORTEX_DASHBOARD_PORT: String(freePort()),
    CORTEX_ECHO_MIN_MS: "0",
    CORTEX_ECHO_MAX_MS: "50",
    ...extra,
  };
}

/** Occupies 127.0.0.1:4222 when free, so dev must choose another port. */
function holdDefaultNatsPort(): Disposable {
  let listener: Deno.Listener | undefined;
  try {
    listener = Deno.listen({ hostname: "127.0.0.1", port: 4222 });
  } catch {
    // already taken by something else: just as good
  }
  return { [Symbol.dispose]: () => listener?.close() };
}

Deno.test("dev: starts nats-server, scheduler and workers; a job completes; SIGINT exits 0 and leaves no process behind", async () => {
  using _taken = holdDefaultNatsPort();
  const env = devEnv();
  const started = Date.now();
  await using dev = startDev(env);
  const [, natsUrl, nkey] = await dev.waitFor(READY);
  const readyMs = Date.now() - started;

  assertMatch(natsUrl, /^nats:\/\/127\.0\.0\.1:\d+$/);
  assertNotEquals(natsUrl, "nats://127.0.0.1:4222");
  await dev.waitFor(/port 4222 is taken; nats-server uses \d+/);
  for (const name of ["nats", "scheduler", "echo-1", "echo-2"]) {
    await dev.waitFor(new RegExp(`^${name}\\s+\\| `));
  }
  if (env.CORTEX_DASHBOARD === "on") {
    const url = `http://127.0.0.1:${env.CORTEX_DASHBOARD_PORT}/`;
    await dev.waitFor(new RegExp(`dashboard: ${url}`));
    const health = await fetch(`${url}healthz`);
    await health.body?.cancel();
    assertOk(health.ok, `GET ${url}healthz: ${health.status}`);
  }

  // Secure by default: the line printed names the client's nkey, and works
  // as printed; without it the server refuses the submit.
  assertEquals(nkey, ".data/nkeys/client.nk");
  const mode = (await Deno.stat(`${ROOT}/${nkey}`)).mode! & 0o777;
  assertEquals(mode.toString(8), "600");
  const submit = await runTask("submit", [
    "--count",
    "10",
    "--concurrency",
    "5",
    "--timeout",
    "30s",
  ], { NATS_URL: natsUrl, NATS_NKEY: nkey });
  assertEquals(submit.code, 0, submit.stdout + submit.stderr);
  assertEquals(submit.stdout.match(/^\S+\s+COMPLETED\s/gm)?.length ?? 0, 10);
  const anonymous = await runTask("submit", [], { NATS_URL: natsUrl });
  assertEquals(anonymous.code, 2, anonymous.stdout + anonymous.stderr);
  assertMatch(
    anonymous.stderr,
    /refused no credentials .*Authorization Violation.*set NATS_NKEY/,
  );

  const children = descendants(dev.child.pid);
  const commands = children.map((p) => commandLine(p) ?? "");
  assertOk(
    commands.some((c) => c.includes("nats-server")),
    commands.join("\n"),
  );
  assertEquals(
    commands.filter((c) => c.includes("src/bin/worker_echo.ts")).length,
    2,
    commands.join("\n"),
  );

  const stopAt = Date.now();
  dev.child.kill("SIGINT");
  const status = await dev.status;
  const stopMs = Date.now() - stopAt;
  assertEquals(status.code, 0, dev.lines.join("\n"));
  await eventually(() => alive(children).length === 0, {
    timeoutMs: 10_000,
    what: `no child left (alive: ${alive(children)})`,
  });
  // Workers drain before the scheduler stops, the scheduler before NATS.
  const order = ["echo-1", "scheduler", "nats"].map((name) =>
    dev.lines.findIndex((l) =>
      new RegExp(`^${name}\\s+\\| .*(SIGTERM|Server Exiting)`).test(l)
    )
  );
  assertOk(order.every((i) => i >= 0), dev.lines.join("\n"));
  assertOk(order[0] < order[1] && order[1] < order[2], dev.lines.join("\n"));
  console.log(
    `dev ready after ${readyMs} ms; stopped ${stopMs} ms after SIGINT`,
  );
});

Deno.test("dev: with NATS_URL set it starts no nats-server, and a crashed worker is restarted", async () => {
  await using nats = await startNatsServer();
  await using dev = startDev(devEnv({
    NATS_URL: nats.url,
    CORTEX_DEV_WORKERS: "1",
  }));
  const [, natsUrl, nkey] = await dev.waitFor(READY);
  assertEquals(natsUrl, nats.url);
  assertEquals(nkey, undefined); // not dev's server: its own credentials
  await dev.waitFor(/no nats-server started/);
  const children = descendants(dev.child.pid);
  const commands = children.map((p) => commandLine(p) ?? "");
  assertOk(
    !commands.some((c) => NATS_SERVER.test(c) || c.includes("tether.ts")),
    commands.join("\n"),
  );
  assertOk(dev.lines.every((l) => !/^nats\s+\|/.test(l)));

  const worker = children.find((p) =>
    commandLine(p)?.includes("src/bin/worker_echo.ts")
  );
  assertOk(worker, commands.join("\n"));
  Deno.kill(worker, "SIGKILL");
  await dev.waitFor(/echo-1 exited \(signal SIGKILL\); restarting in 0\.5 s/);
  await eventually(
    () =>
      dev.lines.filter((l) => /^echo-1\s+\| .*taking job\.echo/.test(l))
        .length === 2,
    { timeoutMs: 30_000, what: "the restarted worker taking jobs" },
  );
  const submit = await runTask("submit", ["--timeout", "30s"], {
    NATS_URL: nats.url,
  });
  assertEquals(submit.code, 0, submit.stdout + submit.stderr);

  const all = descendants(dev.child.pid);
  dev.child.kill("SIGTERM");
  assertEquals((await dev.status).code, 0, dev.lines.join("\n"));
  await eventually(() => alive(all).length === 0, {
    timeoutMs: 10_000,
    what: "no child left",
  });
});

Deno.test("dev: without nats-server and NATS_URL it says how to install it and exits 1", async () => {
  const bin = await Deno.makeTempDir({ prefix: "cortex-path-" });
  try {
    await Deno.symlink(Deno.execPath(), `${bin}/deno`);
    await using dev = startDev(devEnv({ PATH: bin }));
    const status = await dev.status;
    const output = dev.lines.join("\n");
    assertEquals(status.code, 1, output);
    assertMatch(output, /nats-server was not found on PATH/);
    assertMatch(output, /sudo apt-get install nats-server/);
    assertMatch(output, /brew install nats-server/);
    assertMatch(output, /NATS_URL=/);
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});

Deno.test("dev: a worker with a configuration error is not restarted: dev stops everything and exits 1", async () => {
  await using nats = await startNatsServer();
  await using dev = startDev(devEnv({
    NATS_URL: nats.url,
    CORTEX_DEV_WORKERS: "1",
    // An invalid worker setting: the worker exits 2 at start.
    CORTEX_ECHO_MIN_MS: "10",
    CORTEX_ECHO_MAX_MS: "5",
  }));
  const status = await dev.status;
  const output = dev.lines.join("\n");
  assertEquals(status.code, 1, output);
  assertMatch(output, /echo-1\s+\| configuration error: CORTEX_ECHO_MIN_MS/);
  assertMatch(output, /echo-1 exited \(exit code 2\); not restarting/);
  assertMatch(output, /echo-1 is down for good/);
  assertOk(!/restarting in/.test(output), output);
});

Deno.test("dev: a worker that keeps crashing is restarted with backoff a bounded number of times, then dev stops everything and exits 1", async () => {
  await using nats = await startNatsServer();
  await using dev = startDev(devEnv({
    NATS_URL: nats.url,
    CORTEX_DEV_WORKERS: "1",
  }));
  await dev.waitFor(READY);
  const taking = () =>
    dev.lines.filter((l) => /^echo-1\s+\| .*taking job\.echo/.test(l)).length;
  for (let crash = 1; crash <= 6; crash++) {
    await eventually(() => taking() === crash, {
      timeoutMs: 30_000,
      what: `echo-1 serving for the ${crash}. time`,
    });
    const worker = descendants(dev.child.pid).find((p) =>
      commandLine(p)?.includes("src/bin/worker_echo.ts")
    );
    assertOk(worker, "no worker process");
    Deno.kill(worker, "SIGKILL");
    if (crash <= 5) {
      await dev.waitFor(
        new RegExp(
          `echo-1 exited \\(signal SIGKILL\\); restarting in ${
            [0.5, 1, 2, 4, 8][crash - 1]
          } s \\(restart ${crash} of 5\\)`,
        ),
      );
    }
  }
  const status = await dev.status;
  const output = dev.lines.join("\n");
  assertEquals(status.code, 1, output);
  assertMatch(
    output,
    /echo-1 exited \(signal SIGKILL\) after 5 restarts; giving up/,
  );
  assertMatch(output, /scheduler\s+\| .*SIGTERM: shutting down/);
});

Deno.test("dev: with CORTEX_DEV_AUTH=off anyone may connect; killed with SIGKILL, it leaves no process behind", async () => {
  await using dev = startDev(devEnv({ CORTEX_DEV_AUTH: "off" }));
  const [, natsUrl, nkey] = await dev.waitFor(READY);
  assertEquals(nkey, undefined);
  await dev.waitFor(/nats-server admits anyone \(CORTEX_DEV_AUTH=off\)/);
  const open = await runTask("submit", ["--timeout", "30s"], {
    NATS_URL: natsUrl,
  });
  assertEquals(open.code, 0, open.stdout + open.stderr);
  // `deno task` runs dev.ts as a child: kill dev.ts itself.
  const devTs = descendants(dev.child.pid).find((p) =>
    commandLine(p)?.includes("scripts/dev.ts")
  );
  assertOk(devTs, "dev.ts process not found");
  const children = descendants(devTs);
  const commands = children.map((p) => commandLine(p) ?? "").join("\n");
  // tether.ts and its nats-server, the scheduler, two workers
  assertEquals(children.length, 5, commands);
  assertMatch(commands, /^\S*nats-server\s/m);
  Deno.kill(devTs, "SIGKILL");
  await eventually(() => alive(children).length === 0, {
    timeoutMs: 30_000,
    what: "the children of a killed dev to exit",
  });
});

Deno.test("dev: when deno task (its parent) is killed with SIGKILL, dev stops everything", async () => {
  await using dev = startDev(devEnv());
  await dev.waitFor(READY);
  const all = descendants(dev.child.pid);
  assertEquals(all.length, 6, all.map(commandLine).join("\n")); // dev.ts + 5
  dev.child.kill("SIGKILL");
  await eventually(() => alive(all).length === 0, {
    timeoutMs: 30_000,
    what: "dev and its children to exit after deno task was killed",
  });
});

Deno.test("dev: CORTEX_DEV_WORKER_FILES starts each worker file as deno task worker does, and its jobs complete", async () => {
  await using dev = startDev(devEnv({
    CORTEX_DEV_WORKERS: "0",
    CORTEX_DEV_WORKER_FILES: "examples/sha256.ts",
  }));
  const [, natsUrl, nkey] = await dev.waitFor(READY);
  // Named by its file, taking its topic, with its declared permissions
  // (the launcher's "permissions held" line).
  await dev.waitFor(/^sha256\s+\| .*taking job\.sha256/);
  const submit = await runTask("submit", [
    "--topic",
    "job.sha256",
    "--payload",
    "hello",
    "--json",
    "--timeout",
    "30s",
  ], { NATS_URL: natsUrl, NATS_NKEY: nkey ?? "" });
  assertEquals(submit.code, 0, submit.stdout + submit.stderr);
  const line = submit.stdout.split("\n").find((l) => l.includes('"job_id"'));
  assertOk(line, submit.stdout);
  const outcome = JSON.parse(line);
  assertEquals(outcome.status, "COMPLETED");
  assertEquals(
    outcome.output,
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
  );
  const all = descendants(dev.child.pid);
  dev.child.kill("SIGINT");
  assertEquals((await dev.status).code, 0, dev.lines.join("\n"));
  await eventually(() => alive(all).length === 0, {
    timeoutMs: 10_000,
    what: "no child left",
  });
});
