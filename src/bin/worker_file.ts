/**
 * Preloaded by `deno task worker <file>` before the worker file itself:
 * turns on logging (so the SDK's lines show) and logs the permissions this
 * process holds, the bus's and what the file declared
 * (`permissions held: ...`), before any of the file's code runs; and drains
 * every Cortex the file opened on Ctrl-C or SIGTERM.
 *
 * @module
 */
import {
  COMMON,
  envNames,
  loadConfigOrExit,
  NATS_AUTH_FILE_SETTINGS,
  natsHostPorts,
} from "../config.ts";
import {
  logHeldPermissions,
  type PermissionProbes,
} from "../held_permissions.ts";
import { logger, setupLogging } from "../log.ts";
import { closeEveryCortex } from "../sdk/cortex.ts";
import { EXIT_WITH_PARENT, onShutdown } from "../shutdown.ts";
import { WORKER_SETTINGS } from "../worker/config.ts";

const config = loadConfigOrExit({
  natsUrl: COMMON.natsUrl,
  logLevel: COMMON.logLevel,
  logFormat: COMMON.logFormat,
  exitWithParent: EXIT_WITH_PARENT,
});
await setupLogging({ level: config.logLevel, format: config.logFormat });
const file = Deno.mainModule.split("/").at(-1) ?? "worker";
const log = logger("worker", file);

let declared: PermissionProbes = {};
try {
  declared = JSON.parse(Deno.env.get("CORTEX_WORKER_DECLARED") || "{}");
} catch {
  // Set by the launcher from a declaration it already checked.
}
const credentials = NATS_AUTH_FILE_SETTINGS
  .map((s) => Deno.env.get(s.env)?.trim() ?? "")
  .filter(Boolean);
await logHeldPermissions(log, {
  net: [...natsHostPorts(config.natsUrl), ...(declared.net ?? [])],
  env: [...envNames(WORKER_SETTINGS), ...(declared.env ?? [])],
  read: [...credentials, ...(declared.read ?? [])],
  write: declared.write ?? [],
});

// A worker file needs no signal handling of its own: on Ctrl-C or SIGTERM
// (or when the launcher is killed outright) every Cortex it opened drains,
// so its workers finish their jobs and say they are leaving.
onShutdown(log, closeEveryCortex, { exitWithParent: config.exitWithParent });
