/**
 * Runs a command that cannot watch its parent itself (nats-server) and ties
 * its life to ours: when the process that started us exits — even by
 * SIGKILL — the command gets SIGTERM, and SIGKILL 1.5 s later.
 *
 * `deno task dev` starts nats-server through this, with `--allow-run` for
 * that one binary and no other permission:
 * `deno run --allow-run=nats-server tether.ts nats-server <args…>`.
 * SIGINT/SIGTERM are passed on (SIGKILL follows after 1.5 s, or at a second
 * signal); SIGQUIT kills the command at once. The exit code is the command's
 * (128 + signal number when a signal ended it).
 *
 * @module
 */
import { onParentExit } from "../../src/shutdown.ts";
import { exitCodeOf, signalExitCode, STOP_SIGNALS } from "../../src/signals.ts";

const [command, ...args] = Deno.args;
if (!command) {
  console.error("usage: tether.ts <command> [args…]");
  Deno.exit(2);
}

const child = new Deno.Command(command, {
  args,
  stdin: "null",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();

/** After SIGTERM, how long the command has before SIGKILL. */
const GRACE_MS = 1_500;

const pass = (signal: Deno.Signal) => {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
};
let stopping = false;
const stop = (signal: Deno.Signal) => {
  if (stopping) return pass("SIGKILL");
  stopping = true;
  pass(signal);
  setTimeout(() => pass("SIGKILL"), GRACE_MS);
};
for (const signal of STOP_SIGNALS) {
  Deno.addSignalListener(signal, () => stop(signal));
}
// SIGQUIT: the supervisor wants it gone now (SIGKILL would orphan the command).
Deno.addSignalListener("SIGQUIT", () => {
  pass("SIGKILL");
  Deno.exit(signalExitCode("SIGKILL"));
});
onParentExit(() => stop("SIGTERM"));

Deno.exit(exitCodeOf(await child.status));
