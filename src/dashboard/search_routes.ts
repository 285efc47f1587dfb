/**
 * Search through history: `GET /api/jobs` (filters and a cursor through
 * every job the history holds), `GET /api/jobs/:id` (from the ledger when
 * the job table no longer holds the job) and `GET /api/workers/:id` (a
 * worker and the jobs it ran and its errors).
 *
 * @module
 */
import type { Context, Hono } from "hono";
import {
  JOB_STATES,
  type JobsResponse,
  type JobState,
  type WorkerDetail,
} from "../contract/mod.ts";
import {
  decodeCursor,
  type HistoryQuery,
  type JobHistory,
} from "../scheduler/job_history.ts";
import type { SchedulerService } from "../scheduler/service.ts";
import { jobDetail, workerSummary } from "./views.ts";

/** Most jobs one `GET /api/jobs` returns. */
export const MAX_LIST = 1000;
/** Errors listed in a worker's detail. */
const WORKER_ERRORS = 50;

/** A time parameter: epoch ms or an ISO 8601 time; `null` when malformed. */
function parseTime(raw: string | undefined): number | undefined | null {
  if (raw === undefined || raw === "") return undefined;
  const at = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  return Number.isFinite(at) ? at : null;
}

type Parsed =
  | { query: HistoryQuery; limit: number; cursor?: [number, string] }
  | { error: string };

/** The query of `GET /api/jobs` (and a worker's page), or what is wrong with it. */
function parseQuery(c: Context): Parsed {
  const states = new Set<string>();
  for (const s of (c.req.query("status") ?? "").split(",")) {
    const state = s.trim().toUpperCase();
    if (state === "") continue;
    if (!JOB_STATES.includes(state as JobState)) {
      return { error: `status "${s}" is not one of ${JOB_STATES.join(", ")}` };
    }
    states.add(state);
  }
  const deadLettered = c.req.query("deadLettered") ?? "";
  if (!["", "true", "false"].includes(deadLettered)) {
    return { error: "deadLettered must be true or false" };
  }
  const rawLimit = c.req.query("limit");
  const limit = rawLimit === undefined ? 100 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) {
    return { error: `limit must be a whole number from 1 to ${MAX_LIST}` };
  }
  const since = parseTime(c.req.query("since"));
  const until = parseTime(c.req.query("until"));
  if (since === null || until === null) {
    return {
      error:
        "since and until must be epoch milliseconds or ISO 8601 times, e.g. 2026-12-02T03:00:00Z",
    };
  }
  const rawCursor = c.req.query("cursor");
  const cursor = rawCursor ? decodeCursor(rawCursor) : undefined;
  if (rawCursor && !cursor) {
    return {
      error:
        "cursor is not one this server gave: pass the nextCursor of the previous page, or none for the first",
    };
  }
  return {
    query: {
      states,
      topic: c.req.query("topic") || undefined,
      idContains: c.req.query("q") || undefined,
      idPrefix: c.req.query("idPrefix") || undefined,
      worker: c.req.query("worker") || undefined,
      text: c.req.query("text") || undefined,
      since,
      until,
      deadLettered: deadLettered === "" ? undefined : deadLettered === "true",
    },
    limit,
    cursor,
  };
}

/**
 * Adds the search routes to `app`.
 *
 * @example
 * ```ts
 * searchRoutes(app, scheduler, history);
 * ```
 */
export function searchRoutes(
  app: Hono,
  scheduler: SchedulerService,
  history: JobHistory,
): void {
  app.get("/api/jobs", (c) => {
    const parsed = parseQuery(c);
    if ("error" in parsed) return c.json({ error: parsed.error }, 400);
    const page = history.search(parsed.query, parsed.limit, parsed.cursor);
    return c.json(
      {
        serverTime: Date.now(),
        jobs: page.jobs,
        held: scheduler.jobs.size,
        history: page.held,
        nextCursor: page.nextCursor,
      } satisfies JobsResponse,
    );
  });

  app.get("/api/jobs/:id", async (c) => {
    const id = c.req.param("id");
    let record = scheduler.jobs.get(id);
    try {
      record ??= await scheduler.durable?.lookup?.(id);
    } catch (error) {
      return c.json({
        error: `cannot read job "${id}" from the ledger now (${
          error instanceof Error ? error.message : String(error)
        }); try again once NATS is reachable`,
      }, 503);
    }
    if (!record) {
      return c.json({
        error: scheduler.durable
          ? `no job "${id}" in the ledger (it keeps jobs for CORTEX_HISTORY_MS)`
          : `no job "${id}" in the job table (it holds the most recent ${scheduler.jobs.size} jobs)`,
      }, 404);
    }
    return c.json(jobDetail(record));
  });

  app.get("/api/workers/:id", (c) => {
    const workerId = c.req.param("id");
    const parsed = parseQuery(c);
    if ("error" in parsed) return c.json({ error: parsed.error }, 400);
    const worker = scheduler.workers.get(workerId);
    const page = history.search(
      { ...parsed.query, worker: workerId },
      parsed.limit,
      parsed.cursor,
    );
    if (!worker && page.jobs.length === 0 && !parsed.cursor) {
      return c.json({
        error:
          `no worker "${workerId}": the registry does not know it and the history holds no job it ran`,
      }, 404);
    }
    const errors = history.errorsOf(workerId, WORKER_ERRORS).map((e) => ({
      jobId: e.jobId,
      state: e.state,
      error: e.error,
      at: e.at,
    }));
    return c.json(
      {
        serverTime: Date.now(),
        workerId,
        worker: worker ? workerSummary(worker) : null,
        jobs: page.jobs,
        nextCursor: page.nextCursor,
        errors,
      } satisfies WorkerDetail,
    );
  });
}
