/**
 * The routes of the actions on one job or worker: cancel a job, drain (or
 * resume) a worker. Each takes a small JSON object body under the same
 * token, same-origin and content-type rules as the submit and retry
 * routes, and is written to the audit log.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ActionResponse, ErrorResponse } from "../contract/mod.ts";
import type { ActionResult, SchedulerService } from "../scheduler/service.ts";
import { noteAudit } from "./audit.ts";
import { jsonObject } from "./json_body.ts";
import { sameOriginJson } from "./security.ts";

/** Largest action body read: it is `{}` or `{"resume": true}`. */
export const MAX_ACTION_BODY_BYTES = 1024;

/** The HTTP status of each outcome: 200, 404 (unknown), 409 (conflict). */
export function actionHttpStatus(result: ActionResult): 200 | 404 | 409 {
  return result.status === "ok" ? 200 : result.status === "unknown" ? 404 : 409;
}

/** Runs an action, its unreachable ledger answered 503, and audits it. */
async function answer(
  c: Context,
  action: string,
  target: string,
  run: () => Promise<ActionResult>,
): Promise<Response> {
  let result: ActionResult;
  try {
    result = await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const reply: ErrorResponse = {
      error:
        `cannot ${action} ${target} now: ${message}; try again once NATS is reachable`,
    };
    noteAudit(c, { action, target, count: 0, outcome: reply.error });
    return c.json(reply, 503);
  }
  if (result.status === "ok") {
    noteAudit(c, {
      action,
      target,
      count: action === "cancel" ? 1 : 0,
      outcome: result.detail,
    });
    return c.json(
      {
        status: "ok",
        id: result.id,
        detail: result.detail,
      } satisfies ActionResponse,
    );
  }
  noteAudit(c, { action, target, count: 0, outcome: result.reason });
  return c.json(
    { error: result.reason } satisfies ErrorResponse,
    actionHttpStatus(result),
  );
}

/**
 * Adds `POST /api/jobs/:id/cancel` and `POST /api/workers/:id/drain` to
 * `app`, over `scheduler`.
 *
 * @example
 * ```ts
 * actionRoutes(app, scheduler);
 * ```
 */
export function actionRoutes(app: Hono, scheduler: SchedulerService): void {
  const limit = bodyLimit({
    maxSize: MAX_ACTION_BODY_BYTES,
    onError: (c) =>
      c.json({ error: "send a small JSON object, {}, as the body" }, 413),
  });
  app.post("/api/jobs/:id/cancel", limit, sameOriginJson(), async (c) => {
    const body = await jsonObject(c);
    if (body instanceof Response) return body;
    const id = c.req.param("id");
    return answer(c, "cancel", id, () => scheduler.cancel(id));
  });
  app.post("/api/workers/:id/drain", limit, sameOriginJson(), async (c) => {
    const body = await jsonObject(c);
    if (body instanceof Response) return body;
    if (body.resume !== undefined && typeof body.resume !== "boolean") {
      return c.json({
        error: 'resume must be true or false: send {} or {"resume": true}',
      }, 400);
    }
    const id = c.req.param("id");
    const resume = body.resume === true;
    return answer(
      c,
      resume ? "resume" : "drain",
      id,
      () => scheduler.drain(id, { resume }),
    );
  });
}
