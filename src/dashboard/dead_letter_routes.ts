/**
 * The dead-letter view's routes: `GET /api/dead-letters` (grouped by
 * error), `POST /api/dead-letters/:group/retry` and `…/discard` (a group,
 * as a bulk action in the background) and `POST /api/jobs/:id/discard`
 * (one job). Retry of one job is `POST /api/jobs/:id/retry`. Discard is
 * written to the ledger, so a discarded job stays off the list after a
 * restart.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { DeadLettersResponse, DiscardReply } from "../contract/mod.ts";
import type { BulkStep } from "../scheduler/bulk.ts";
import { deadLetters } from "../scheduler/dead_letters.ts";
import type { SchedulerService } from "../scheduler/service.ts";
import { noteAudit } from "./audit.ts";
import {
  type BulkDeps,
  bulkLimit,
  retryStep,
  startBulk,
} from "./bulk_routes.ts";
import { jsonObject } from "./json_body.ts";
import { sameOriginJson } from "./security.ts";

/** Jobs listed per group by default, and at most. */
const PER_GROUP = 20, MAX_PER_GROUP = 200;

/** What core mode answers: dead letters are durable mode's. */
export const DISCARD_NEEDS_DURABLE =
  "discard needs durable mode: core mode keeps no dead-letter list (CORTEX_DURABILITY=jetstream)";

/** Takes one job off the list; never rejects. */
export async function discardJob(
  scheduler: SchedulerService,
  jobId: string,
  by: string,
): Promise<DiscardReply> {
  const discard = scheduler.durable?.discard;
  if (!discard) {
    return { status: "conflict", jobId, error: DISCARD_NEEDS_DURABLE };
  }
  try {
    const outcome = await discard.call(scheduler.durable, jobId, by);
    if (outcome.status === "discarded") return outcome;
    return { status: outcome.status, jobId, error: outcome.reason };
  } catch (error) {
    return {
      status: "error",
      jobId,
      error: `cannot discard job ${jobId} now: ${
        error instanceof Error ? error.message : String(error)
      }; try again once NATS is reachable`,
    };
  }
}

function discardStep(scheduler: SchedulerService, by: string): BulkStep {
  return async (jobId) => {
    const reply = await discardJob(scheduler, jobId, by);
    return reply.status === "discarded"
      ? { ok: true }
      : { ok: false, error: reply.error };
  };
}

const STATUS = { unknown: 404, conflict: 409, error: 503 } as const;

/**
 * Adds the dead-letter routes to `app`.
 *
 * @example
 * ```ts
 * deadLetterRoutes(app, { scheduler, history, bulk, audit });
 * ```
 */
export function deadLetterRoutes(app: Hono, deps: BulkDeps): void {
  const { scheduler, history } = deps;

  app.get("/api/dead-letters", (c) => {
    const raw = c.req.query("perGroup");
    const perGroup = raw === undefined ? PER_GROUP : Number(raw);
    if (
      !Number.isInteger(perGroup) || perGroup < 0 || perGroup > MAX_PER_GROUP
    ) {
      return c.json({
        error: `perGroup must be a whole number from 0 to ${MAX_PER_GROUP}`,
      }, 400);
    }
    const { total, groups } = deadLetters(history, perGroup);
    return c.json(
      { serverTime: Date.now(), total, groups } satisfies DeadLettersResponse,
    );
  });

  const group = (action: "retry" | "discard") => async (c: Context) => {
    const body = await jsonObject(c);
    if (body instanceof Response) return body;
    const id = c.req.param("group") ?? "";
    if (!scheduler.durable) {
      noteAudit(c, {
        action: `dead letters ${action}`,
        target: id,
        outcome: "core mode",
      });
      return c.json(
        { error: DISCARD_NEEDS_DURABLE.replace("discard", action) },
        409,
      );
    }
    const jobIds = deadLetters(history, 0).jobIds.get(id);
    if (!jobIds) {
      noteAudit(c, {
        action: `dead letters ${action}`,
        target: id,
        outcome: "no such group",
      });
      return c.json({
        error:
          `no dead-letter group "${id}" now (retried or discarded already?); see GET /api/dead-letters`,
      }, 404);
    }
    const step = action === "retry"
      ? retryStep(scheduler, "dashboard dead letters")
      : discardStep(scheduler, "dashboard");
    const filter = { deadLetterGroup: id };
    const response = startBulk(c, deps, action, filter, jobIds, step);
    noteAudit(c, {
      action: `dead letters ${action}`,
      target: id,
      filter,
      count: jobIds.length,
      outcome: `started on ${jobIds.length} jobs (${response.bulk?.id})`,
    });
    return c.json(response);
  };
  app.post(
    "/api/dead-letters/:group/retry",
    bulkLimit(),
    sameOriginJson(),
    group("retry"),
  );
  app.post(
    "/api/dead-letters/:group/discard",
    bulkLimit(),
    sameOriginJson(),
    group("discard"),
  );

  app.post(
    "/api/jobs/:id/discard",
    bulkLimit(),
    sameOriginJson(),
    async (c) => {
      const body = await jsonObject(c);
      if (body instanceof Response) return body;
      const id = c.req.param("id");
      const reply = await discardJob(scheduler, id, "dashboard");
      noteAudit(c, {
        action: "discard",
        target: id,
        count: reply.status === "discarded" ? 1 : 0,
        outcome: reply.status === "discarded" ? "discarded" : reply.error,
      });
      if (reply.status === "discarded") return c.json(reply);
      return c.json({ error: reply.error }, STATUS[reply.status]);
    },
  );
}
