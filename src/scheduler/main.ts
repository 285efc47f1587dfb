/**
 * `deno task scheduler`: the scheduler process.
 *
 * @module
 */
import { envNames, loadConfigOrExit, natsHostPorts } from "../config.ts";
import { NatsBus } from "../bus/bus.ts";
import { connectNats } from "../bus/connect.ts";
import { logger, setupLogging } from "../log.ts";
import { logHeldPermissions } from "../held_permissions.ts";
import { onShutdown } from "../shutdown.ts";
import { Scheduler } from "./engine.ts";
import { SCHEDULER_SETTINGS } from "./config.ts";
import { JobTable } from "./job_table.ts";
import { WorkerRegistry } from "./registry.ts";
import { SubjectPolicy } from "./safety.ts";
import { NaiveStrategy } from "./strategy.ts";

const config = loadConfigOrExit(SCHEDULER_SETTINGS);
await setupLogging({ level: config.logLevel, format: config.logFormat });
const log = logger("scheduler");
const senderId = config.schedulerId ||
  `scheduler-${crypto.randomUUID().slice(0, 8)}`;
await logHeldPermissions(log, {
  net: [
    ...natsHostPorts(config.natsUrl),
    config.dashboardPort === 0
      ? config.dashboardHost
      : `${config.dashboardHost}:${config.dashboardPort}`,
  ],
  read: [new URL("../../dashboard/dist", import.meta.url).pathname],
  env: envNames(SCHEDULER_SETTINGS),
  run: ["deno"],
});

const nc = await connectNats({ url: config.natsUrl, name: senderId, log });
const bus = new NatsBus(nc, logger("bus"));
const scheduler = new Scheduler({
  bus,
  safety: new SubjectPolicy({
    deny: config.safetyDeny,
    allow: config.safetyAllow,
  }),
  strategy: new NaiveStrategy(),
  registry: new WorkerRegistry({
    heartbeatMs: config.heartbeatMs,
    staleAfterBeats: config.staleAfterBeats,
    offlineAfterBeats: config.offlineAfterBeats,
    forgetAfterMs: config.forgetAfterMs,
  }),
  jobs: new JobTable({
    capacity: config.jobTableSize,
    timeoutMs: config.jobTimeoutMs,
  }),
  limits: { maxPayloadBytes: config.maxPayloadBytes },
  senderId,
  log,
});
await scheduler.start();
log.info("scheduler {id} serving sys.job.submit", { id: senderId });

onShutdown(log, async () => {
  scheduler.stop();
  await bus.drain();
}, { exitWithParent: config.exitWithParent === "1" });
