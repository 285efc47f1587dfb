/**
 * `deno task worker:echo`: one echo worker process.
 *
 * @module
 */
import { envNames, loadConfigOrExit, natsHostPorts } from "../config.ts";
import { NatsBus } from "../bus/bus.ts";
import { connectNats, NatsAuthError } from "../bus/connect.ts";
import {
  DURABILITY,
  DurabilityUnavailable,
  resolveDurability,
} from "../bus/durable/mode.ts";
import { JetStreamWorkQueue } from "../bus/durable/work_queue.ts";
import { ECHO_TOPIC } from "../bus/subjects.ts";
import { logHeldPermissions } from "../held_permissions.ts";
import { logger, setupLogging } from "../log.ts";
import { onShutdown } from "../shutdown.ts";
import { echoHandler } from "../worker/echo.ts";
import { WORKER_SETTINGS } from "../worker/config.ts";
import { Worker } from "../worker/runtime.ts";

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
const bus = new NatsBus(nc, logger("bus"));
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
const worker = new Worker({
  bus,
  log,
  handler: echoHandler({
    minMs: config.minMs,
    maxMs: config.maxMs,
    failRate: config.failRate,
  }),
  workerId,
  pool: "echo",
  topic: ECHO_TOPIC,
  region: config.region,
  type: "echo",
  capabilities: config.capabilities,
  concurrency: config.concurrency,
  heartbeatMs: config.heartbeatMs,
  durable: durability.mode === "jetstream"
    ? {
      queue: new JetStreamWorkQueue(nc, {
        topic: ECHO_TOPIC,
        ackWaitMs: config.ackWaitMs,
        log,
      }),
      ackWaitMs: config.ackWaitMs,
      retryBaseMs: config.retryBaseMs,
      retryMaxMs: config.retryMaxMs,
    }
    : undefined,
});
await worker.start();

onShutdown(log, async () => {
  await worker.stop();
  await bus.drain();
}, { exitWithParent: config.exitWithParent });
