/**
 * Graceful shutdown on SIGINT and SIGTERM, shared by every long-running process,
 * and (opt-in) when the parent process dies.
 *
 * @module
 */
import { flag } from "./config.ts";
import type { Logger } from "./log.ts";
import { signalExitCode, STOP_SIGNALS, stopSignalMeaning } from "./signals.ts";

/**
 * `CORTEX_EXIT_WITH_PARENT=1`: shut down (gracefully) when the parent process
 * dies. `deno task dev` sets it so that no child outlives it, even when it is
 * killed with SIGKILL.
 */
export const EXIT_WITH_PARENT = flag(
  "CORTEX_EXIT_WITH_PARENT",
  false,
  "shut down when the parent process exits (the launchers set it)",
);

/** Options for {@linkcode onShutdown}. */
export interface ShutdownOptions {
  /** Also shut down when the parent process exits. Default false. */
  exitWithParent?: boolean;
}

/**
 * Runs `stop` once on the first SIGINT or SIGTERM (or, with `exitWithParent`,
 * when the parent process exits), then exits 0 (1 if `stop` threw). A second
 * signal while stopping, more than a second after the first, exits 130 at once.
 *
 * @example
 * ```ts
 * onShutdown(log, async () => await bus.drain(), { exitWithParent: true });
 * ```
 */
export function onShutdown(
  log: Logger,
  stop: () => Promise<void>,
  options: ShutdownOptions = {},
): void {
  let stoppingSince: number | undefined;
  const begin = (reason: string) => {
    stoppingSince = Date.now();
    log.info("{reason}: shutting down", { reason });
    stop().then(
      () => Deno.exit(0),
      (error) => {
        log.error("shutdown failed: {error}", { error: String(error) });
        Deno.exit(1);
      },
    );
  };
  const handler = (signal: Deno.Signal) => () => {
    const meaning = stopSignalMeaning(stoppingSince);
    if (meaning === "stop") return begin(signal);
    if (meaning === "echo") return;
    log.warn("{signal} again: exiting without finishing", { signal });
    Deno.exit(signalExitCode("SIGINT"));
  };
  for (const signal of STOP_SIGNALS) {
    Deno.addSignalListener(signal, handler(signal));
  }
  if (options.exitWithParent) {
    onParentExit(() => {
      if (stoppingSince === undefined) begin("parent process exited");
    });
  }
}

/**
 * Calls `onExit` once when this process's parent exits, noticed within
 * `intervalMs` (default 500) by the process being re-parented. Needs no
 * permission; the check does not keep the process alive.
 *
 * @example
 * ```ts
 * onParentExit(() => Deno.exit(1));
 * ```
 */
export function onParentExit(onExit: () => void, intervalMs = 500): void {
  const parent = Deno.ppid;
  const timer = setInterval(() => {
    if (Deno.ppid === parent) return;
    clearInterval(timer);
    onExit();
  }, intervalMs);
  Deno.unrefTimer(timer);
}
