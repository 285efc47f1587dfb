/**
 * Starts one CortexOS process with the permissions it needs and no more:
 * `deno task scheduler` is `launch.ts scheduler`, and so on.
 *
 * The flags are computed from the configuration (NATS_URL, the dashboard's
 * address) by `permissions.ts`; this process only reads those variables and
 * runs `deno`. Signals are passed on; the exit code is the child's.
 *
 * @module
 */
import {
  denoArgs,
  ENTRY,
  launchEnv,
  parseWorkerDeclaration,
  type ProcessName,
  WORKER_DECLARED_ENV,
  type WorkerDeclaration,
  WorkerDeclarationError,
} from "./permissions.ts";
import { ConfigError } from "../src/config.ts";
import { onParentExit } from "../src/shutdown.ts";
import { exitCodeOf, STOP_SIGNALS } from "../src/signals.ts";

const [name, ...args] = Deno.args;
if (!(name in ENTRY)) {
  console.error(`usage: launch.ts <${Object.keys(ENTRY).join("|")}> [args…]`);
  Deno.exit(2);
}

// `worker <file>`: the file's own header says what it may do beyond the
// bus; read (never run) here. A relative path is relative to where
// `deno task` was started (INIT_CWD), not to the project.
let declared: WorkerDeclaration = {};
if (name === "worker") {
  if (!args[0]) {
    console.error("usage: deno task worker <file.ts> [args…]");
    Deno.exit(2);
  }
  const base = Deno.env.get("INIT_CWD") || Deno.cwd();
  const file = args[0].startsWith("/") ? args[0] : `${base}/${args[0]}`;
  args[0] = new URL(`file://${file}`).pathname;
  let text: string;
  try {
    text = await Deno.readTextFile(args[0]);
  } catch (error) {
    console.error(`${args[0]}: cannot read it: ${(error as Error).message}`);
    Deno.exit(2);
  }
  try {
    declared = parseWorkerDeclaration(
      text,
      args[0].slice(0, args[0].lastIndexOf("/")) || "/",
    );
  } catch (error) {
    if (!(error instanceof WorkerDeclarationError)) throw error;
    console.error(`${args[0]}: ${error.message}`);
    Deno.exit(2);
  }
}

let argv: string[];
try {
  argv = denoArgs(name as ProcessName, launchEnv(), args, declared);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`configuration error: NATS_URL: ${error.message}`);
  Deno.exit(2);
}

// Detached, so a terminal's Ctrl-C reaches the child once, through us; and
// told to exit with us, so killing this launcher (even with SIGKILL) leaves
// no orphan behind.
const child = new Deno.Command("deno", {
  args: argv,
  env: {
    CORTEX_EXIT_WITH_PARENT: "1",
    ...(name === "worker"
      ? { [WORKER_DECLARED_ENV]: JSON.stringify(declared) }
      : {}),
  },
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
  detached: true,
}).spawn();
// Likewise if `deno task` above us dies: stop the child, which then drains.
onParentExit(() => child.kill("SIGTERM"));

for (const signal of STOP_SIGNALS) {
  Deno.addSignalListener(signal, () => {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  });
}
Deno.exit(exitCodeOf(await child.status));
