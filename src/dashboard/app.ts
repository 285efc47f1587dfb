/**
 * The dashboard's routes, as a Hono app over a running scheduler:
 * the UI, the JSON API, the event stream, health and metrics.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type {
  AuditResponse,
  HealthResponse,
  QueuesView,
  WorkersResponse,
} from "../contract/mod.ts";
import type { SchedulerService } from "../scheduler/service.ts";
import type { Logger } from "../log.ts";
import { DEFAULT_DIST_DIR, serveAsset } from "./assets.ts";
import type { EventHub } from "./event_hub.ts";
import type { DashboardMetrics } from "./metrics.ts";
import {
  allowHosts,
  requireToken,
  sameOriginJson,
  securityHeaders,
} from "./security.ts";
import { parseSubmitForm, submitForm } from "./submit.ts";
import { retryHttpStatus, retryJob } from "../scheduler/retry.ts";
import { jobSummary, workerSummary } from "./views.ts";
import { JobHistory } from "../scheduler/job_history.ts";
import { searchRoutes } from "./search_routes.ts";
import { jsonObject } from "./json_body.ts";
import { actionRoutes } from "./action_routes.ts";
import { AuditLog, noteAudit } from "./audit.ts";
import { BulkActions } from "../scheduler/bulk.ts";
import { bulkRoutes } from "./bulk_routes.ts";
import { deadLetterRoutes } from "./dead_letter_routes.ts";

/** What the dashboard needs to know of the bus. */
export interface BusStatus {
  /** Whether the NATS connection is up now. */
  readonly connected: boolean;
  /** Packets received that were not a BusPacket, since start. */
  readonly undecodable: number;
}

/** What {@linkcode createDashboardApp} serves. */
export interface DashboardAppOptions {
  /** What the API reads and submits through. */
  scheduler: SchedulerService;
  /** The bus connection's state, for `/healthz`. */
  bus: BusStatus;
  /** The event stream behind `GET /api/events`. */
  hub: EventHub;
  /** What `GET /metrics` renders. */
  metrics: DashboardMetrics;
  /** Where request errors are logged. */
  log: Logger;
  /** Required on every API, event and metrics request when not empty. Default "". */
  token?: string;
  /**
   * Host names requests may be addressed to, besides loopback names
   * (see {@linkcode allowHosts}). Default: none.
   */
  allowedHosts?: readonly string[];
  /** Where the built UI is. Default `<project>/dashboard/dist`. */
  distDir?: string;
  /** Epoch ms the process started, for `/healthz`. Default: now. */
  startedAt?: number;
  /**
   * What `GET /api/jobs` searches. Default: a {@linkcode JobHistory} the app
   * makes and keeps current by observing `scheduler`.
   */
  history?: JobHistory;
  /** Where writes are recorded. Default: a new {@linkcode AuditLog} over `log`. */
  audit?: AuditLog;
  /** Where bulk actions run. Default: a new {@linkcode BulkActions}. */
  bulk?: BulkActions;
}

export { MAX_LIST } from "./search_routes.ts";

/**
 * Largest `POST /api/jobs` body read: 1 MiB, the NATS server's default
 * `max_payload`, so no form submits what the bus could not carry, and a
 * request cannot make the scheduler buffer more.
 */
export const MAX_SUBMIT_BODY_BYTES = 1024 * 1024;

/** Largest `POST /api/jobs/:id/retry` body read: it is `{}`. */
export const MAX_RETRY_BODY_BYTES = 1024;

/** A history of `scheduler`'s jobs, kept current by observing it. */
function observedHistory(scheduler: SchedulerService): JobHistory {
  const history = new JobHistory(jobSummary);
  scheduler.observe({ jobChanged: (record) => history.jobChanged(record) });
  return history;
}

/**
 * Builds the dashboard app. It holds no state of its own: everything comes
 * from the scheduler, the hub and the metrics, so it can be tested with
 * `app.request()`.
 *
 * @example
 * ```ts
 * const app = createDashboardApp({ scheduler, bus, hub, metrics, log });
 * const res = await app.request("/api/workers");
 * ```
 */
export function createDashboardApp(options: DashboardAppOptions): Hono {
  const { scheduler, bus, hub, metrics, log } = options;
  const distDir = options.distDir ?? DEFAULT_DIST_DIR;
  const startedAt = options.startedAt ?? Date.now();
  const app = new Hono();
  const history = options.history ?? observedHistory(scheduler);
  const audit = options.audit ?? new AuditLog(log);

  app.use("*", securityHeaders());
  // First of all (the headers above are only added on the way out): a
  // request for another name gets nothing, not even /healthz.
  app.use("*", allowHosts(options.allowedHosts ?? []));
  const auth = requireToken(options.token ?? "");
  app.use("/api/*", auth);
  // After the token check: what authorised callers did, not every knock.
  app.use("/api/*", audit.middleware());
  app.use("/metrics", auth);

  app.onError((error, c) => {
    log.error("dashboard request {method} {path} failed: {error}", {
      method: c.req.method,
      path: c.req.path,
      error: error.stack ?? error.message,
    });
    return c.json({ error: "internal error; see the scheduler's log" }, 500);
  });

  app.get("/", (c) => serveAsset(c, distDir, "index.html"));
  app.get("/healthz", (c) => {
    const connected = bus.connected;
    const health: HealthResponse = {
      status: connected ? "ok" : "degraded",
      bus: { connected },
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      workers: scheduler.workers.counts(),
      jobs: { held: scheduler.jobs.size, inflight: scheduler.jobs.inflight },
    };
    return c.json(health, connected ? 200 : 503);
  });
  app.get("/metrics", (c) =>
    c.text(metrics.render(), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    }));

  app.get("/api/workers", (c) =>
    c.json(
      {
        serverTime: Date.now(),
        workers: scheduler.workers.list().map(workerSummary),
        counts: scheduler.workers.counts(),
      } satisfies WorkersResponse,
    ));

  app.get("/api/queues", (c) => c.json(hub.queues() satisfies QueuesView));
  app.get("/api/audit", (c) =>
    c.json(
      {
        serverTime: Date.now(),
        entries: audit.entries(),
        capacity: audit.capacity,
      } satisfies AuditResponse,
    ));

  searchRoutes(app, scheduler, history);
  const bulk = options.bulk ?? new BulkActions();
  // Their progress goes out on the event stream; GET /api/bulk/:id stays.
  hub.followBulk(bulk);
  bulkRoutes(app, { scheduler, history, bulk, audit });
  deadLetterRoutes(app, { scheduler, history, bulk, audit });

  const submitLimit = bodyLimit({
    maxSize: MAX_SUBMIT_BODY_BYTES,
    onError: (c) =>
      c.json({
        error:
          `the body is over ${MAX_SUBMIT_BODY_BYTES} bytes; send a smaller payload`,
      }, 413),
  });
  app.post("/api/jobs", submitLimit, sameOriginJson(), async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: "the body is not valid JSON" }, 400);
    }
    const form = parseSubmitForm(body);
    if (typeof form === "string") {
      noteAudit(c, { action: "submit", outcome: form });
      return c.json({ error: form }, 400);
    }
    const response = submitForm(scheduler, form);
    noteAudit(c, {
      action: "submit",
      target: form.topic,
      count: response.dispatched,
      outcome: `${response.dispatched} dispatched, ${response.refused} refused`,
    });
    return c.json(response);
  });

  // Retry by hand: durable mode only (core mode answers 409). The body is
  // JSON, `{}` (nothing to say yet), so the same-origin rules of the
  // submit route apply.
  app.post(
    "/api/jobs/:id/retry",
    bodyLimit({
      maxSize: MAX_RETRY_BODY_BYTES,
      onError: (c) =>
        c.json({ error: "send an empty JSON object, {}, as the body" }, 413),
    }),
    sameOriginJson(),
    async (c) => {
      const body = await jsonObject(c);
      if (body instanceof Response) return body;
      const reply = await retryJob(scheduler, c.req.param("id"), "dashboard");
      noteAudit(c, {
        action: "retry",
        target: c.req.param("id"),
        count: reply.status === "retried" ? 1 : 0,
        outcome: reply.status === "retried" ? "retried" : reply.error,
      });
      if (reply.status === "retried") return c.json(reply);
      return c.json({ error: reply.error }, retryHttpStatus(reply));
    },
  );

  actionRoutes(app, scheduler);

  app.get("/api/events", (c) =>
    hub.connect({
      lastEventId: c.req.header("last-event-id") ?? c.req.query("lastEventId"),
      // Deno.serve's handler info: settles when the connection is done with
      // the response, which for a stream means the client went away.
      done: (c.env as Partial<Deno.ServeHandlerInfo> | undefined)?.completed,
    }));

  app.all("/api/*", (c) => c.json({ error: `no route ${c.req.path}` }, 404));
  app.get("/:file", (c) => serveAsset(c, distDir, c.req.param("file")));
  return app;
}
