/**
 * Bulk actions by filter: `POST /api/jobs/bulk` (a dry run counts the
 * matches; otherwise the action starts in the background and a handle is
 * returned), `GET /api/bulk` and `GET /api/bulk/:id` (progress) and
 * `POST /api/bulk/:id/stop`. Writes follow the token, same-origin and
 * content-type rules of every write, and each start, stop and end is in
 * the audit log.
 *
 * @module
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { jsonObject } from "./json_body.ts";
import type {
  BulkListResponse,
  BulkProgress,
  BulkResponse,
} from "../contract/mod.ts";
import {
  BULK_KEPT,
  type BulkActions,
  type BulkStep,
} from "../scheduler/bulk.ts";
import type { JobHistory } from "../scheduler/job_history.ts";
import { retryJob } from "../scheduler/retry.ts";
import type { SchedulerService } from "../scheduler/service.ts";
import { type AuditLog, auditSource, noteAudit } from "./audit.ts";
import { matchJobs, parseBulkRequest } from "./bulk_filter.ts";
import { sameOriginJson } from "./security.ts";

/** Largest bulk request body read: a filter is a few short fields. */
export const MAX_BULK_BODY_BYTES = 16 * 1024;

/**
 * What `SchedulerService.cancel` answers (being added beside this work):
 * `ok`, or `unknown` / `conflict` with a reason; only these words are read.
 */
type CancelAnswer = { status?: string; reason?: string; error?: string };

/** A scheduler that may offer cancel (until the cancel work is merged). */
type MaybeCancel = SchedulerService & {
  cancel?: (jobId: string, by?: string) => Promise<unknown>;
};

/** What cancel answers while the scheduler offers none. */
export const CANCEL_NOT_AVAILABLE =
  "cancel not available: this scheduler offers no cancel of a job";

/** Everything the bulk and dead-letter routes share. */
export interface BulkDeps {
  /** What they act through. */
  scheduler: SchedulerService;
  /** What filters match against. */
  history: JobHistory;
  /** Where actions run. */
  bulk: BulkActions;
  /** Where an action's end is recorded. */
  audit: AuditLog;
}

/** The size check of every bulk write (then `sameOriginJson()`). */
export function bulkLimit(): MiddlewareHandler {
  return bodyLimit({
    maxSize: MAX_BULK_BODY_BYTES,
    onError: (c) =>
      c.json({
        error:
          `the body is over ${MAX_BULK_BODY_BYTES} bytes; a filter is a few short fields`,
      }, 413),
  });
}

/** A step retrying one job through the retry path of `POST /api/jobs/:id/retry`. */
export function retryStep(scheduler: SchedulerService, by: string): BulkStep {
  return async (jobId) => {
    const reply = await retryJob(scheduler, jobId, by);
    return reply.status === "retried"
      ? { ok: true }
      : { ok: false, error: reply.error };
  };
}

/** A step cancelling one job, or `undefined` when the scheduler has no cancel. */
export function cancelStep(
  scheduler: SchedulerService,
  by: string,
): BulkStep | undefined {
  const cancel = (scheduler as MaybeCancel).cancel;
  if (typeof cancel !== "function") return undefined;
  return async (jobId) => {
    const answer = (await cancel.call(scheduler, jobId, by) ??
      {}) as CancelAnswer;
    if (answer.status === "ok" || answer.status === "cancelled") {
      return { ok: true };
    }
    return {
      ok: false,
      error: answer.reason ?? answer.error ??
        `cancel of ${jobId} answered ${answer.status ?? "nothing"}`,
    };
  };
}

/**
 * Starts `step` over `jobIds` (unless none) and answers with the handle;
 * the action's end is written to the audit log with where it came from.
 */
export function startBulk(
  c: Context,
  deps: BulkDeps,
  action: string,
  filter: Record<string, unknown>,
  jobIds: string[],
  step: BulkStep,
): BulkResponse {
  const sample = jobIds.slice(0, 10);
  if (jobIds.length === 0) return { matched: 0, dryRun: false, sample };
  const from = auditSource(c);
  const started = deps.bulk.start(action, filter, jobIds, step, (end) => {
    deps.audit.record({
      at: end.finishedAt ?? Date.now(),
      action: `bulk ${action} ${end.state}`,
      path: `/api/bulk/${end.id}`,
      target: end.id,
      filter,
      count: end.succeeded,
      status: 200,
      outcome:
        `${end.succeeded} of ${end.matched} done, ${end.failed} refused (${end.state})`,
      from,
    });
  });
  return {
    matched: jobIds.length,
    dryRun: false,
    sample,
    bulk: { id: started.id, href: `/api/bulk/${started.id}` },
  };
}

/**
 * Adds the bulk routes to `app`.
 *
 * @example
 * ```ts
 * bulkRoutes(app, { scheduler, history, bulk: new BulkActions(), audit });
 * ```
 */
export function bulkRoutes(app: Hono, deps: BulkDeps): void {
  const { scheduler, history, bulk } = deps;

  app.post("/api/jobs/bulk", bulkLimit(), sameOriginJson(), async (c) => {
    const body = await jsonObject(c);
    if (body instanceof Response) return body;
    const parsed = parseBulkRequest(body);
    if (typeof parsed === "string") {
      noteAudit(c, { action: "bulk", outcome: parsed });
      return c.json({ error: parsed }, 400);
    }
    const { action, filter, query, dryRun } = parsed;
    const step = action === "retry"
      ? retryStep(scheduler, "dashboard bulk")
      : cancelStep(scheduler, "dashboard bulk");
    if (!step) {
      noteAudit(c, {
        action: `bulk ${action}`,
        filter: { ...filter },
        outcome: CANCEL_NOT_AVAILABLE,
      });
      return c.json({ error: CANCEL_NOT_AVAILABLE }, 501);
    }
    const ids = matchJobs(history, query);
    if (dryRun) {
      noteAudit(c, {
        action: `bulk ${action} dry run`,
        filter: { ...filter },
        count: 0,
        outcome: `${ids.length} jobs match`,
      });
      return c.json(
        {
          matched: ids.length,
          dryRun: true,
          sample: ids.slice(0, 10),
        } satisfies BulkResponse,
      );
    }
    const response = startBulk(c, deps, action, { ...filter }, ids, step);
    noteAudit(c, {
      action: `bulk ${action}`,
      target: response.bulk?.id ?? "",
      filter: { ...filter },
      count: ids.length,
      outcome: response.bulk
        ? `started on ${ids.length} jobs`
        : "no job matched: nothing started",
    });
    return c.json(response);
  });

  app.get("/api/bulk", (c) =>
    c.json(
      {
        serverTime: Date.now(),
        actions: bulk.list(),
      } satisfies BulkListResponse,
    ));

  app.get("/api/bulk/:id", (c) => {
    const progress = bulk.get(c.req.param("id"));
    if (!progress) return unknownBulk(c);
    return c.json(progress satisfies BulkProgress);
  });

  app.post("/api/bulk/:id/stop", bulkLimit(), sameOriginJson(), async (c) => {
    const body = await jsonObject(c);
    if (body instanceof Response) return body;
    const id = c.req.param("id") ?? "";
    const progress = await bulk.stop(id);
    noteAudit(c, {
      action: "bulk stop",
      target: id,
      filter: progress?.filter,
      count: progress ? progress.matched - progress.done : 0,
      outcome: progress
        ? `${progress.state} after ${progress.done} of ${progress.matched}`
        : "no such bulk action",
    });
    if (!progress) return unknownBulk(c);
    return c.json(progress satisfies BulkProgress);
  });
}

function unknownBulk(c: Context): Response {
  return c.json({
    error: `no bulk action "${
      c.req.param("id")
    }" (the most recent ${BULK_KEPT} are kept; see GET /api/bulk)`,
  }, 404);
}
