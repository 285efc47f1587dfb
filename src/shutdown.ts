/**
 * Graceful shutdown on SIGINT and SIGTERM, shared by every long-running process.
 *
 * @module
 */
import type { Logger } from "./log.ts";

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];

/**
 * Runs `stop` once on the first SIGINT or SIGTERM, then exits 0 (1 if `stop`
 * threw). A second signal while stopping exits 130 at once.
 *
 * @example
 * ```ts
 * onShutdown(log, async () => await bus.drain());
 * ```
 */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: Deno.Signal) => () => {
    if (stopping) {
      log.warn("{signal} again: exiting without finishing", { signal });
      Deno.exit(130);
    }
    stopping = true;
    log.info("{signal}: shutting down", { signal });
    stop().then(
      () => Deno.exit(0),
      (error) => {
        log.error("shutdown failed: {error}", { error: String(error) });
        Deno.exit(1);
      },
    );
  };
  for (const signal of SIGNALS) Deno.addSignalListener(signal, handler(signal));
}
