/**
 * `deno task worker:echo`: one echo worker process, written on the SDK
 * (`cortex.worker`) like any user's worker. It connects itself, so it waits
 * for a NATS server that is not up yet (as every process does; the SDK's
 * `connect()` fails at once) and logs its durability as the scheduler does.
 *
 * @module
 */
import { envNames, loadConfigOrExit, natsHostPorts } from "../config.ts";
import { connectNats, NatsAuthError } from "../bus/connect.ts";
import {
  DURABILITY,
  DurabilityUnavailable,
  resolveDurability,
  watchDurability,
} from "../bus/durable/mode.ts";
import { ECHO_TOPIC } from "../bus/subjects.ts";
import { logHeldPermissions } from "../held_permissions.ts";
import { logger, setupLogging } from "../log.ts";
import { Cortex } from "../sdk/cortex.ts";
import { onShutdown } from "../shutdown.ts";
import { echoJob } from "../worker/echo.ts";
import { WORKER_SETTINGS } from "../worker/config.ts";

const config = loadConfigOrExit(WORKER_SETTINGS);
if (config.minMs > config.maxMs) {
  console.error(
    `configuration error: CORTEX_ECHO_MIN_MS (${config.minMs}) is above CORTEX_ECHO_MAX_MS (${config.maxMs})`,
  );
  Deno.exit(2);
}
await setupLogging({ level: config.logLevel, format: config.logFormat });
const workerId = config.workerId || `echo-${crypto.randomUUID().slice(0, 8)}`;
const log = logger("worker", workerId);
await logHeldPermissions(log, {
  net: natsHostPorts(config.natsUrl),
  env: envNames(WORKER_SETTINGS),
});

let nc;
try {
  nc = await connectNats({ url: config.natsUrl, name: workerId, log });
} catch (error) {
  // Credentials refused or unusable: a restart would not change that.
  if (!(error instanceof NatsAuthError)) throw error;
  log.error(error.message);
  Deno.exit(2);
}
let durability;
try {
  durability = await resolveDurability(nc, config.durability);
} catch (error) {
  if (!(error instanceof DurabilityUnavailable)) throw error;
  console.error(`configuration error: ${error.message}`);
  await nc.close();
  Deno.exit(2);
}
// Exactly `durability: jetstream` or `durability: core`, as the scheduler
// says it: operators and tests look for the line.
log.info("durability: {mode}", {
  mode: durability.mode,
  setting: `${DURABILITY.env}=${config.durability}`,
});
watchDurability(nc, durability.mode, log);
const cortex = new Cortex(nc, durability.mode, log, workerId);
await cortex.worker(
  ECHO_TOPIC,
  echoJob({
    minMs: config.minMs,
    maxMs: config.maxMs,
    failRate: config.failRate,
  }),
  {
    id: workerId,
    pool: "echo",
    region: config.region,
    capabilities: config.capabilities,
    concurrency: config.concurrency,
    heartbeatMs: config.heartbeatMs,
    ackWaitMs: config.ackWaitMs,
    retryBaseMs: config.retryBaseMs,
    retryMaxMs: config.retryMaxMs,
  },
);

// Drains: the worker finishes its jobs and says it is leaving, then the
// connection closes.
onShutdown(log, () => cortex.close(), {
  exitWithParent: config.exitWithParent,
});
