/**
 * What every CortexOS process agrees on about signals: which ones ask it to
 * stop, how a repeated Ctrl-C is told from a terminal's echo, and the exit
 * code a signal stands for.
 *
 * @module
 */

/** The signals that ask a process to stop gracefully. */
export const STOP_SIGNALS: readonly ("SIGINT" | "SIGTERM")[] = [
  "SIGINT",
  "SIGTERM",
];

/**
 * A terminal's Ctrl-C reaches a process started by `deno task` twice: once
 * from the terminal and once forwarded by `deno task`. A second signal within
 * this window is that echo, not a user asking to force the exit.
 */
export const REPEAT_WINDOW_MS = 1_000;

/**
 * What a stop signal means, given when stopping began (`undefined`: not yet):
 * `"stop"` the first one, `"echo"` a repeat within
 * {@linkcode REPEAT_WINDOW_MS} (ignore it), `"force"` a later one (the user
 * insists: exit now).
 *
 * @example
 * ```ts
 * stopSignalMeaning(undefined); // "stop"
 * stopSignalMeaning(Date.now()); // "echo"
 * stopSignalMeaning(Date.now() - 5_000); // "force"
 * ```
 */
export function stopSignalMeaning(
  stoppingSince: number | undefined,
  now: number = Date.now(),
): "stop" | "echo" | "force" {
  if (stoppingSince === undefined) return "stop";
  return now - stoppingSince < REPEAT_WINDOW_MS ? "echo" : "force";
}

/** The numbers of the signals CortexOS processes send or pass on. */
const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGTERM: 15,
};

/**
 * The exit code a shell reports for a process ended by `signal`: 128 plus
 * the signal's number (128 for a signal without a number here).
 *
 * @example
 * ```ts
 * signalExitCode("SIGINT"); // 130
 * ```
 */
export function signalExitCode(signal: Deno.Signal): number {
  return 128 + (SIGNAL_NUMBERS[signal] ?? 0);
}

/**
 * The exit code to pass on for a child that ended with `status`: its own
 * code, or {@linkcode signalExitCode} when a signal ended it.
 *
 * @example
 * ```ts
 * Deno.exit(exitCodeOf(await child.status));
 * ```
 */
export function exitCodeOf(status: Deno.CommandStatus): number {
  return status.signal ? signalExitCode(status.signal) : status.code;
}
