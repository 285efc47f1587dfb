/**
 * The body of the dashboard's JSON writes (retry, cancel, drain, discard,
 * bulk): one JSON object, `{}` when empty.
 *
 * @module
 */
import type { Context } from "hono";

/**
 * The JSON object body of a write (`{}` when empty), or the 400 answer to
 * give when it is not one.
 */
export async function jsonObject(
  c: Context,
): Promise<Record<string, unknown> | Response> {
  const text = await c.req.text();
  let body: unknown = {};
  try {
    if (text.trim() !== "") body = JSON.parse(text);
  } catch {
    return c.json(
      { error: "the body is not valid JSON; send {} or an object" },
      400,
    );
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return c.json({ error: "the body must be a JSON object, e.g. {}" }, 400);
  }
  return body as Record<string, unknown>;
}
