/**
 * Starts the dashboard's HTTP server next to a running scheduler.
 *
 * @module
 */
import type { SchedulerService } from "../scheduler/service.ts";
import type { Logger } from "../log.ts";
import { type BusStatus, createDashboardApp } from "./app.ts";
import { EventHub, type EventHubOptions } from "./event_hub.ts";
import { QueueFigures } from "../scheduler/queue_figures.ts";
import { JobHistory } from "../scheduler/job_history.ts";
import { jobSummary } from "./views.ts";
import { DashboardMetrics } from "./metrics.ts";
import { checkBinding, isLoopback } from "./security.ts";

/** Options for {@linkcode startDashboard}. */
export interface DashboardOptions {
  /** The scheduler whose state is shown and through which jobs are submitted. */
  scheduler: SchedulerService;
  /** The bus connection's state, for `/healthz` and `/metrics`. */
  bus: BusStatus;
  /** Where request errors are logged. */
  log: Logger;
  /** Address to listen on. Default "127.0.0.1". */
  host?: string;
  /** Port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Bearer token; required when `host` is not loopback. Default "". */
  token?: string;
  /**
   * Host names the dashboard answers to besides loopback names and `host`
   * (`CORTEX_DASHBOARD_ALLOWED_HOSTS`). Default: none.
   */
  allowedHosts?: readonly string[];
  /** Where the built UI is. Default `<project>/dashboard/dist`. */
  distDir?: string;
  /** Event stream tuning. */
  events?: EventHubOptions;
  /**
   * The history and queue figures, made by {@linkcode observeScheduler}
   * before the scheduler started. Default: made now, so they hold only
   * what happens from now on.
   */
  views?: DashboardViews;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
}

/** A running dashboard. */
export interface Dashboard extends AsyncDisposable {
  /** `http://host:port/` */
  readonly url: string;
  /** The port listened on (the one picked, when asked for 0). */
  readonly port: number;
  /** The event stream's hub, for its stats. */
  readonly hub: EventHub;
  /** Ends the event streams, then stops the server. */
  close(): Promise<void>;
}

/** What the dashboard keeps of the scheduler's jobs beyond its job table. */
export interface DashboardViews {
  /** Every job heard of, for search. */
  history: JobHistory;
  /** The queues at a glance. */
  figures: QueueFigures;
}

/**
 * Starts keeping the dashboard's history and queue figures of `scheduler`.
 * Call it before the scheduler starts: a durable scheduler then reads the
 * whole ledger into them, so history and the last 15 minutes survive a
 * restart. `history` is where the jobs go (the scheduler's own, on file);
 * default: a history in memory, closed with the dashboard.
 *
 * @example
 * ```ts
 * const views = observeScheduler(scheduler, { history });
 * await scheduler.start();
 * startDashboard({ scheduler, bus, log, views });
 * ```
 */
export function observeScheduler(
  scheduler: SchedulerService,
  options: { history?: JobHistory } = {},
): DashboardViews {
  const history = options.history ?? new JobHistory(jobSummary);
  const figures = new QueueFigures();
  scheduler.observe({
    jobChanged: (record) => {
      history.jobChanged(record);
      figures.jobChanged(record);
    },
  });
  return { history, figures };
}

/**
 * Listens and serves the dashboard.
 *
 * @throws {DashboardConfigError} when `host` is not loopback and there is
 * no token, or the token is shorter than 16 characters.
 * @throws {Deno.errors.AddrInUse} when the port is taken.
 * @example
 * ```ts
 * const dashboard = startDashboard({ scheduler, bus, log, port: 8080 });
 * log.info(`dashboard listening on ${dashboard.url}`);
 * await dashboard.close();
 * ```
 */
export function startDashboard(options: DashboardOptions): Dashboard {
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? "";
  checkBinding(host, token);
  const allowedHosts = [host, ...options.allowedHosts ?? []];
  if (
    (host === "0.0.0.0" || host === "::") &&
    allowedHosts.every((name) => name === host || isLoopback(name))
  ) {
    options.log.warn(
      "the dashboard listens on every interface ({host}) but answers only to loopback names: list the names other machines reach it by in CORTEX_DASHBOARD_ALLOWED_HOSTS",
      { host },
    );
  }
  const startedAt = Date.now();
  // Views made here are closed here; given ones belong to the caller.
  const ownViews = options.views === undefined;
  const views = options.views ?? observeScheduler(options.scheduler);
  const hub = new EventHub(options.scheduler, {
    ...options.events,
    figures: views.figures,
  });
  const metrics = new DashboardMetrics({
    scheduler: options.scheduler,
    bus: options.bus,
    sseClients: () => hub.stats().clients,
    startedAt,
  });
  const app = createDashboardApp({
    scheduler: options.scheduler,
    bus: options.bus,
    hub,
    metrics,
    log: options.log,
    token,
    allowedHosts,
    distDir: options.distDir,
    startedAt,
    history: views.history,
  });
  const stop = new AbortController();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: host,
      port: options.port ?? 8080,
      signal: options.signal
        ? AbortSignal.any([options.signal, stop.signal])
        : stop.signal,
      onListen: () => {},
    }, app.fetch);
  } catch (error) {
    hub.close();
    metrics.close();
    if (ownViews) views.history.close();
    throw error;
  }
  const port = server.addr.port;
  const shown = host.includes(":") ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      hub.close();
      metrics.close();
      stop.abort();
      await server.finished;
      if (ownViews) views.history.close();
    })();
    return closed;
  };
  return {
    url: `http://${shown}:${port}/`,
    port,
    hub,
    close,
    [Symbol.asyncDispose]: close,
  };
}
