/**
 * `deno task dev`: the whole system in one terminal — nats-server (unless
 * NATS_URL is set), the scheduler with its dashboard, and
 * CORTEX_DEV_WORKERS echo workers, each with its own least-privilege flags
 * from `permissions.ts`. Ctrl-C stops the workers (they drain), then the
 * scheduler, then nats-server.
 *
 * Secure by default: the nats-server it starts admits only the nkeys it
 * keeps in `.data/nkeys/<role>.nk` (made once, mode 0600), each with its
 * role's subject permissions (src/bus/roles.ts); each process gets its
 * role's seed as NATS_NKEY, and the submit line printed names the
 * client's. CORTEX_DEV_AUTH=off starts an open server instead.
 *
 * No child outlives dev: children run detached, so only dev signals them,
 * and with CORTEX_EXIT_WITH_PARENT=1 they drain and exit when dev is gone,
 * even after a SIGKILL. dev itself stops everything when its parent dies.
 *
 * Exit code: 0 after Ctrl-C/SIGTERM; 1 when nats-server is missing, a child
 * keeps crashing, or a child exits 2 (a configuration error, which a restart
 * would not fix); 2 on a bad setting of dev's own.
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };
import { loadConfigOrExit } from "../src/config.ts";
import { onParentExit } from "../src/shutdown.ts";
import {
  signalExitCode,
  STOP_SIGNALS,
  stopSignalMeaning,
} from "../src/signals.ts";
import { DEV_NKEYS_DIR, DEV_SETTINGS } from "./dev_config.ts";
import { NATS_AUTH_FILE_SETTINGS } from "../src/config.ts";
import type { RoleName } from "../src/bus/roles.ts";
import { reachableHost, waitForHealthz } from "./dev/healthz.ts";
import { linePrefixer } from "./dev/prefix.ts";
import {
  type ChildSpec,
  describeExit,
  SupervisedProcess,
} from "./dev/supervisor.ts";
import {
  denoArgs,
  type LaunchEnv,
  launchEnv,
  type ProcessName,
  ROOT,
} from "./permissions.ts";
import { Child } from "./support/child.ts";
import { type DevNatsContext, prepareNkeys, startNats } from "./dev/nats.ts";

/** How long each stage of the shutdown may take before SIGKILL (≤ 10 s). */
const STOP_BUDGET_MS = { workers: 4_000, scheduler: 2_500, nats: 2_500 };
/** The scheduler's and workers' log lines that say they are serving. */
const SCHEDULER_READY = /serving sys\.job\.submit/;
// A durable worker takes its topic "from stream", a core-NATS one "in queue group".
const WORKER_READY = /taking \S+ (in queue group|from stream)/;

const startedAt = Date.now();
const config = loadConfigOrExit(DEV_SETTINGS);
const colour = Deno.stdout.isTerminal() && !Deno.noColor;
const workerNames = Array.from(
  { length: config.workers },
  (_, i) => `echo-${i + 1}`,
);
/** The worker files of CORTEX_DEV_WORKER_FILES, each named by its file. */
const workerFiles = config.workerFiles.split(",").map((f) => f.trim())
  .filter((f) => f !== "")
  .map((file) => ({
    file,
    name: file.replace(/^.*\//, "").replace(/\.[jt]sx?$/, ""),
  }));
/**
 * The scheduler replicas: two on a cluster dev started (sharing the
 * durable consumers and the ledger, each with its own dashboard), so a
 * replica can be killed with the other carrying on; one otherwise.
 */
const schedulerNames = !config.natsUrl && config.natsCluster > 1
  ? ["scheduler-1", "scheduler-2"]
  : ["scheduler"];
const width = Math.max(
  9,
  ...[...workerNames, ...schedulerNames, ...workerFiles.map((w) => w.name)]
    .map((n) => n.length),
);
const encoder = new TextEncoder();

function write(line: string): void {
  try {
    Deno.stdout.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stdout closed: nobody is reading, keep running the children
  }
}

const devPrefix = linePrefixer("dev", { colour, width, index: 9 });
const say = (message: string) => write(devPrefix(message));

const children: SupervisedProcess[] = [];
let stopping: Promise<void> | undefined;
let stoppingSince: number | undefined;

/** Stops workers, then the scheduler, then nats-server; then exits `code`. */
function shutdown(code: number, reason: string): Promise<void> {
  if (stopping) return stopping;
  const since = stoppingSince = Date.now();
  stopping = (async () => {
    say(`${reason}: stopping workers, then the scheduler, then nats-server`);
    const stages: [SupervisedProcess[], number][] = [
      [
        children.filter((c) => c.spec.name.startsWith("echo-")),
        STOP_BUDGET_MS.workers,
      ],
      [
        children.filter((c) => schedulerNames.includes(c.spec.name)),
        STOP_BUDGET_MS.scheduler,
      ],
      [
        children.filter((c) => c.spec.name.startsWith("nats")),
        STOP_BUDGET_MS.nats,
      ],
    ];
    for (const [group, timeoutMs] of stages) {
      const outcomes = await Promise.all(
        group.map((child) => child.stop({ timeoutMs })),
      );
      outcomes.forEach((outcome, i) => {
        if (outcome === "killed") {
          say(
            `${group[i].spec.name} did not stop in ${
              timeoutMs / 1000
            } s: killed`,
          );
        }
      });
    }
    say(`stopped in ${Date.now() - since} ms`);
    Deno.exit(code);
  })();
  return stopping;
}

for (const signal of STOP_SIGNALS) {
  Deno.addSignalListener(signal, () => {
    const meaning = stopSignalMeaning(stoppingSince);
    if (meaning === "stop") return void shutdown(0, signal);
    if (meaning === "echo") return;
    say(`${signal} again: killing everything now`);
    for (const child of children) child.kill();
    Deno.exit(signalExitCode("SIGINT"));
  });
}
onParentExit(() => void shutdown(1, "dev's parent process exited"));

function supervise(
  spec: ChildSpec,
  onLine: (line: string) => void = () => {},
): SupervisedProcess {
  const { name } = spec;
  const prefix = linePrefixer(name, {
    colour,
    width,
    index: children.length,
  });
  const child = new SupervisedProcess({ cwd: ROOT, ...spec }, {
    onLine: (line) => {
      write(prefix(line));
      onLine(line);
    },
    onNotice: say,
    // Exit code 2 is a configuration error (loadConfigOrExit): fix, not retry.
    fatalCodes: [2],
    onGiveUp: (status) =>
      void shutdown(
        1,
        `${name} is down for good (${describeExit(status)})`,
      ),
  });
  child.start();
  children.push(child);
  return child;
}

/** Tracks which named children have said they are serving; `all` resolves once every one has. */
function readiness(names: string[]) {
  const pending = new Set(names);
  let done: () => void;
  const all = new Promise<void>((resolve) => done = resolve);
  if (pending.size === 0) done!();
  return {
    all,
    seen(name: string) {
      if (pending.delete(name) && pending.size === 0) done();
    },
  };
}

const natsContext: DevNatsContext = { config, say, supervise, shutdown };
let natsUrl = config.natsUrl;
/** Each role's seed, when dev runs its own server with authentication. */
let seedFiles: Record<RoleName, string> | undefined;
if (natsUrl) {
  say(`using NATS at ${natsUrl} (NATS_URL is set): no nats-server started`);
} else if (config.auth) {
  const nkeys = await prepareNkeys(natsContext);
  seedFiles = nkeys.seedFiles;
  natsUrl = await startNats(natsContext, nkeys.configFile, seedFiles.scheduler);
} else natsUrl = await startNats(natsContext);

const env = { ...launchEnv(), natsUrl };
/** Every credential variable cleared: the server dev started needs only the role's nkey. */
const noCredentials = Object.fromEntries(
  [...NATS_AUTH_FILE_SETTINGS.map((s) => s.env), "NATS_USER", "NATS_PASSWORD"]
    .map((name) => [name, ""]),
);
const ready = readiness([
  ...schedulerNames,
  ...workerNames,
  ...workerFiles.map((w) => w.name),
]);
/** Replica `i`'s dashboard port: the configured one, then the next ones (0 stays 0: any free port). */
const dashboardPort = (i: number) =>
  env.dashboardPort === 0 ? 0 : env.dashboardPort + i;
const spawnDeno = (
  name: string,
  process: ProcessName,
  role: RoleName,
  pattern: RegExp,
  extra: { env?: Record<string, string>; launch?: Partial<LaunchEnv> } = {},
) => {
  let launch: LaunchEnv = { ...env, ...extra.launch };
  const childEnv: Record<string, string> = {
    NATS_URL: natsUrl,
    CORTEX_EXIT_WITH_PARENT: "1",
    ...extra.env,
  };
  // A cluster dev started: durable streams, replicated on three nodes.
  if (!config.natsUrl && config.natsCluster > 1) {
    childEnv.CORTEX_DURABILITY = "jetstream";
    childEnv.CORTEX_STREAM_REPLICAS = String(Math.min(3, config.natsCluster));
  }
  if (!config.natsUrl) Object.assign(childEnv, noCredentials);
  if (seedFiles) {
    childEnv.NATS_NKEY = seedFiles[role];
    launch = { ...launch, credentialFiles: [seedFiles[role]] };
  }
  return supervise(
    { name, command: "deno", args: denoArgs(process, launch), env: childEnv },
    (line) => {
      if (pattern.test(line)) ready.seen(name);
    },
  );
};

/**
 * Builds the dashboard's UI when the project has a `build:dashboard` task, as
 * `deno task scheduler` does before starting; a failed build is reported and
 * the scheduler starts anyway (it says when the UI is not built).
 */
async function buildDashboard(): Promise<void> {
  const tasks: Record<string, string> = denoJson.tasks;
  if (!env.dashboard || !("build:dashboard" in tasks)) return;
  const prefix = linePrefixer("build", { colour, width, index: 8 });
  const build = new Child("build", "deno", ["task", "-q", "build:dashboard"], {
    cwd: ROOT,
    keepLines: 0,
    onLine: (line) => write(prefix(line)),
  });
  const status = await build.status;
  if (!status.success) {
    say(
      `building the dashboard failed (${
        describeExit(status)
      }); starting without its UI`,
    );
  }
}

await buildDashboard();
schedulerNames.forEach((name, i) =>
  spawnDeno(
    name,
    "scheduler",
    "scheduler",
    SCHEDULER_READY,
    schedulerNames.length === 1 ? {} : {
      env: {
        CORTEX_SCHEDULER_ID: `dev-${name}`,
        CORTEX_DASHBOARD_PORT: String(dashboardPort(i)),
      },
      launch: { dashboardPort: dashboardPort(i) },
    },
  )
);
for (const name of workerNames) {
  spawnDeno(name, "worker:echo", "worker", WORKER_READY);
}
// A worker file runs through the launcher, exactly as `deno task worker
// <file>` runs it: the launcher reads the file's declared permissions (dev
// itself may not read the file) and starts it with those and the bus.
const workerTask = (denoJson.tasks as Record<string, string>).worker.split(" ")
  .slice(1).map((arg) =>
    arg === "scripts/launch.ts" ? `${ROOT}/scripts/launch.ts` : arg
  );
for (const { file, name } of workerFiles) {
  supervise(
    {
      name,
      command: "deno",
      args: [...workerTask, file],
      env: {
        NATS_URL: natsUrl,
        INIT_CWD: ROOT,
        ...(!config.natsUrl ? noCredentials : {}),
        ...(seedFiles ? { NATS_NKEY: seedFiles.worker } : {}),
        ...(!config.natsUrl && config.natsCluster > 1
          ? { CORTEX_DURABILITY: "jetstream" }
          : {}),
      },
    },
    (line) => {
      if (WORKER_READY.test(line)) ready.seen(name);
    },
  );
}

const readyTimeout = AbortSignal.timeout(60_000);
await Promise.race([
  ready.all,
  new Promise((resolve) => readyTimeout.addEventListener("abort", resolve)),
]);
if (readyTimeout.aborted) {
  say(
    "the scheduler or a worker has not said it is serving after 60 s; see their lines above",
  );
}

const dashboardLines = ["dashboard: off (CORTEX_DASHBOARD=off)"];
if (env.dashboard && env.dashboardPort === 0) {
  dashboardLines[0] = "dashboard: on the port in the scheduler's line above";
} else if (env.dashboard) {
  dashboardLines.length = 0;
  for (const [i, name] of schedulerNames.entries()) {
    const url = `http://${reachableHost(env.dashboardHost)}:${
      dashboardPort(i)
    }/`;
    dashboardLines.push(
      schedulerNames.length === 1
        ? `dashboard: ${url}`
        : `dashboard of ${name}: ${url}`,
    );
    try {
      await waitForHealthz(`${url}healthz`, AbortSignal.timeout(30_000));
    } catch (error) {
      say(
        error instanceof Deno.errors.NotCapable
          ? `cannot check ${url}healthz from here (${error.message})`
          : `the dashboard at ${url} did not answer /healthz within 30 s`,
      );
    }
  }
}
if (stopping) await stopping;
say(`ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
dashboardLines.forEach(say);
const credential = seedFiles ? ` NATS_NKEY=${DEV_NKEYS_DIR}/client.nk` : "";
say(
  `submit jobs: NATS_URL=${natsUrl}${credential} deno task submit --count 10 --concurrency 5`,
);
say("Ctrl-C stops everything");
