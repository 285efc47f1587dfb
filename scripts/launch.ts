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
import { denoArgs, ENTRY, launchEnv, type ProcessName } from "./permissions.ts";
import { ConfigError } from "../src/config.ts";
import { onParentExit } from "../src/shutdown.ts";
import { exitCodeOf, STOP_SIGNALS } from "../src/signals.ts";

const [name, ...args] = Deno.args;
if (!(name in ENTRY)) {
  console.error(`usage: launch.ts <${Object.keys(ENTRY).join("|")}> [args…]`);
  Deno.exit(2);
}

let argv: string[];
try {
  argv = denoArgs(name as ProcessName, launchEnv(), args);
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
  env: { CORTEX_EXIT_WITH_PARENT: "1" },
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
