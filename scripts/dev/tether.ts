/**
 * Runs a command that cannot watch its parent itself (nats-server) and ties
 * its life to ours: when the process that started us exits — even by
 * SIGKILL — the command gets SIGTERM (then SIGKILL after 5 s).
 *
 * `deno task dev` starts nats-server through this, with `--allow-run` for
 * that one binary and no other permission:
 * `deno run --allow-run=nats-server tether.ts nats-server <args…>`.
 * SIGINT/SIGTERM are passed on; the exit code is the command's
 * (128 + signal number when a signal ended it).
 *
 * @module
 */
import { onParentExit } from "../../src/shutdown.ts";

const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGTERM: 15,
};

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

const pass = (signal: Deno.Signal) => {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => pass(signal));
}
onParentExit(() => {
  pass("SIGTERM");
  setTimeout(() => pass("SIGKILL"), 5_000);
});

const status = await child.status;
Deno.exit(
  status.signal ? 128 + (SIGNAL_NUMBERS[status.signal] ?? 0) : status.code,
);
