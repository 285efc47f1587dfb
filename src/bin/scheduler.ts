/**
 * `deno task scheduler`: the scheduler process, and the dashboard's HTTP
 * server beside it unless `CORTEX_DASHBOARD=off`.
 *
 * @module
 */
import {
  envNames,
  hostPort,
  loadConfigOrExit,
  natsHostPorts,
} from "../config.ts";
import { NatsBus } from "../bus/bus.ts";
import { callRoll } from "../scheduler/roll_call.ts";
import { CANCELLED, RETRY, SCHEDULER_QUEUE } from "../bus/subjects.ts";
import { cancelledList } from "../scheduler/actions.ts";
import type { RetryReply } from "../contract/mod.ts";
import { parseRetryRequest, retryJob } from "../scheduler/retry.ts";
import { connectNats, NatsAuthError } from "../bus/connect.ts";
import {
  type Dashboard,
  observeScheduler,
  startDashboard,
} from "../dashboard/server.ts";
import { DEFAULT_DIST_DIR } from "../dashboard/assets.ts";
import { checkBinding, DashboardConfigError } from "../dashboard/security.ts";
import { logger, setupLogging } from "../log.ts";
import { logHeldPermissions } from "../held_permissions.ts";
import { onShutdown } from "../shutdown.ts";
import { Scheduler } from "../scheduler/engine.ts";
import { DurableScheduler } from "../scheduler/durable_engine.ts";
import { LedgerStore } from "../scheduler/ledger_store.ts";
import {
  DurabilityUnavailable,
  resolveDurability,
  warnOfLingeringStreams,
  watchDurability,
} from "../bus/durable/mode.ts";
import { ensureStreams, StreamMismatch } from "../bus/durable/layout.ts";
import { ensureSchedulerConsumers } from "../bus/durable/scheduler_consumers.ts";
import { whenReady } from "../bus/durable/settle.ts";
import { StoredPublisher } from "../bus/durable/stored_publish.ts";
import { coalesceWrites } from "../bus/durable/coalesced_writes.ts";
import { jetstream } from "@nats-io/jetstream";
import { SCHEDULER_SETTINGS, validationLimits } from "../scheduler/config.ts";
import { JobTable } from "../scheduler/job_table.ts";
import { JobHistory } from "../scheduler/job_history.ts";
import {
  HistoryFileError,
  openHistoryStore,
} from "../scheduler/history_file.ts";
import { BoundedWarnings } from "../bounded_warnings.ts";
import { jobSummary } from "../dashboard/views.ts";
import { WorkerRegistry } from "../scheduler/registry.ts";
import { SubjectPolicy } from "../scheduler/safety.ts";
import { NaiveStrategy } from "../scheduler/strategy.ts";

const config = loadConfigOrExit(SCHEDULER_SETTINGS);
await setupLogging({ level: config.logLevel, format: config.logFormat });
const log = logger("scheduler");
if (config.dashboard) {
  // Refuse an unsafe binding before touching NATS, so nothing half-starts.
  try {
    checkBinding(config.dashboardHost, config.dashboardToken);
  } catch (error) {
    if (!(error instanceof DashboardConfigError)) throw error;
    console.error(`configuration error: ${error.message}`);
    Deno.exit(2);
  }
}
const senderId = config.schedulerId ||
  `scheduler-${crypto.randomUUID().slice(0, 8)}`;
await logHeldPermissions(log, {
  net: [
    ...natsHostPorts(config.natsUrl),
    hostPort(config.dashboardHost, config.dashboardPort),
  ],
  read: config.dashboard ? [DEFAULT_DIST_DIR, config.historyDir] : [],
  write: config.dashboard ? [config.historyDir] : [],
  env: envNames(SCHEDULER_SETTINGS),
  run: ["deno"],
});

/**
 * The dashboard's history, in a fresh file of this scheduler's name (the
 * configured id, else "scheduler") in CORTEX_HISTORY_DIR; exits 2 when
 * there is none to be had.
 */
function openHistory(): JobHistory {
  let store;
  try {
    store = openHistoryStore(
      config.historyDir,
      config.schedulerId || "scheduler",
    );
  } catch (error) {
    exitOnConfigError(error, HistoryFileError);
  }
  log.info("dashboard history kept in {path}", { path: store.path });
  const warnings = new BoundedWarnings(log, "history write failures");
  return new JobHistory(jobSummary, {
    store,
    onError: (error) =>
      warnings.warn(
        "the dashboard's history could not write a batch of jobs ({error}); search misses them until they change again",
        { error: error.message },
      ),
  });
}

/** Exits 2 with `error`'s message when it is one of `kinds`; rethrows otherwise. */
function exitOnConfigError(
  error: unknown,
  kind: new (...args: never[]) => Error,
): never {
  if (!(error instanceof kind)) throw error;
  log.error(error.message);
  Deno.exit(2);
}

let nc;
try {
  nc = await connectNats({ url: config.natsUrl, name: senderId, log });
} catch (error) {
  // Credentials refused or unusable: a restart would not change that.
  exitOnConfigError(error, NatsAuthError);
}
const bus = new NatsBus(nc, logger("bus"));

let durability;
try {
  durability = await resolveDurability(nc, config.durability);
} catch (error) {
  exitOnConfigError(error, DurabilityUnavailable);
}
log.info(`durability: ${durability.mode}`);
watchDurability(nc, durability.mode, log);
if (durability.mode === "core") await warnOfLingeringStreams(nc, log);

const parts = {
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
    capacity: config.registrySize,
  }),
  jobs: new JobTable({
    capacity: config.jobTableSize,
    timeoutMs: config.jobTimeoutMs,
  }),
  limits: validationLimits(config),
  senderId,
  log,
};
let scheduler: Scheduler | DurableScheduler;
if (durability.mode === "jetstream") {
  try {
    await whenReady(
      "make the streams",
      () => ensureStreams(durability.jsm, config),
      log,
    );
  } catch (error) {
    exitOnConfigError(error, StreamMismatch);
  }
  await whenReady(
    "make the scheduler's consumers",
    () => ensureSchedulerConsumers(durability.jsm),
    log,
  );
  const js = jetstream(nc);
  // Durable mode only: core mode's writes stay as they were measured.
  coalesceWrites(nc);
  const stored = new StoredPublisher(nc);
  const ledger = await whenReady(
    "open the ledger",
    () => LedgerStore.open(js, config, stored),
    log,
  );
  scheduler = new DurableScheduler({
    ...parts,
    js,
    stored,
    ledger,
    maxAttempts: config.maxAttempts,
  });
} else {
  scheduler = new Scheduler(parts);
}
// Before it starts: a durable scheduler reads the whole ledger at start,
// and the dashboard's history and queue figures are made from it.
const views = config.dashboard
  ? observeScheduler(scheduler, { history: openHistory() })
  : undefined;
await scheduler.start();
log.info("scheduler {id} serving sys.job.submit", { id: senderId });
// Workers already running answer with a heartbeat now, not in up to 5 s.
callRoll(bus, senderId);

// Retry by hand from the submit CLI: one replica answers each request
// (core mode answers that retry needs durable mode), with the rules and
// words of POST /api/jobs/:id/retry.
const service = scheduler;
const retries = nc.subscribe(RETRY, {
  queue: SCHEDULER_QUEUE,
  callback: (error, msg) => {
    if (error) return;
    const asked = parseRetryRequest(msg.data);
    const reply: Promise<RetryReply> = "error" in asked
      ? Promise.resolve({ status: "conflict", jobId: "", error: asked.error })
      : retryJob(service, asked.jobId, asked.by ?? `${RETRY} request`);
    reply.then((r) => msg.respond(JSON.stringify(r)));
  },
});
// A durable worker that starts asks which jobs were cancelled while it
// was away (they may wait in the work stream): one replica answers.
const cancels = nc.subscribe(CANCELLED, {
  queue: SCHEDULER_QUEUE,
  callback: (error, msg) => {
    if (!error) msg.respond(JSON.stringify(cancelledList(service.jobs)));
  },
});

let dashboard: Dashboard | undefined;
if (config.dashboard) {
  const dashLog = logger("dashboard");
  try {
    dashboard = startDashboard({
      scheduler,
      bus,
      log: dashLog,
      host: config.dashboardHost,
      port: config.dashboardPort,
      token: config.dashboardToken,
      allowedHosts: config.dashboardAllowedHosts,
      views,
    });
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    dashLog.error(
      "dashboard cannot listen on {host}:{port}: the port is in use; set CORTEX_DASHBOARD_PORT to a free port (0: any) or CORTEX_DASHBOARD=off",
      { host: config.dashboardHost, port: config.dashboardPort },
    );
    Deno.exit(2);
  }
  dashLog.info("dashboard listening on {url}", { url: dashboard.url });
}

onShutdown(log, async () => {
  await dashboard?.close();
  retries.unsubscribe();
  cancels.unsubscribe();
  scheduler.stop();
  views?.history.close();
  await bus.drain();
}, { exitWithParent: config.exitWithParent });
